package io.portcullis.kubernetes.injection;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portcullis.kubernetes.Enrolment;
import io.portcullis.kubernetes.admission.AdmissionHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutating webhook on {@code /inject} (pods, CREATE): a pod that {@link Enrolment} says gets a sidecar is
 * answered with a JSON patch adding the {@link SidecarTemplate}'s init container (first, so every other init
 * container's egress is already policed), the Envoy container and their volumes, after storing its
 * ServiceAccount's certificate Secret ({@link SidecarSecrets}). Every other pod is allowed unchanged, and so
 * is a pod that already has the sidecar (the API server may call a webhook twice for one pod).
 *
 * <p>A pod is refused, with the reason, when its injection annotation has a value FSM does not accept either,
 * or when its certificate Secret cannot be stored: starting it without its sidecar would let it bypass egress
 * policy.
 */
public final class SidecarInjector implements AdmissionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SidecarInjector.class);
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final InjectorSettings settings;
    private final SidecarTemplate template;
    private final SidecarSecrets secrets;
    private final InjectorCluster cluster;

    public SidecarInjector(InjectorSettings settings, SidecarSecrets secrets, InjectorCluster cluster) {
        this.settings = settings;
        this.template = new SidecarTemplate(settings);
        this.secrets = secrets;
        this.cluster = cluster;
    }

    /** The injector of a control plane: it reads and writes through {@code client} and issues with {@code ca}. */
    public static SidecarInjector on(
            io.fabric8.kubernetes.client.KubernetesClient client,
            io.portcullis.identity.CertificateAuthority ca,
            InjectorSettings settings) {
        return new SidecarInjector(
                settings,
                new SidecarSecrets(ca, settings, java.time.Clock.systemUTC()),
                new ApiServerInjectorCluster(client));
    }

    @Override
    public AdmissionResponse review(AdmissionRequest request) {
        try {
            return reviewCreate(request);
        } catch (KubernetesClientException e) {
            // Not knowing the namespace's enrolment or the cluster-internal ranges, the pod would start with the
            // wrong sidecar or none: refuse it, saying what could not be read.
            return refused(
                    request,
                    "the sidecar injector cannot read from the API server: " + e.getMessage()
                            + "; the control plane's ServiceAccount needs get on namespaces, secrets and meshconfigs");
        }
    }

    private AdmissionResponse reviewCreate(AdmissionRequest request) {
        if (!"CREATE".equals(request.getOperation()) || request.getObject() == null) {
            return allowed(request, List.of());
        }
        Pod pod = SERIALIZATION.convertValue(request.getObject(), Pod.class);
        String namespaceName = request.getNamespace();
        String where = "pod " + namespaceName + "/" + podName(pod);
        if (hasSidecar(pod)) {
            LOG.debug("{}: already has its sidecar, not patched again", where);
            return allowed(request, List.of());
        }
        Optional<Namespace> namespace = cluster.namespace(namespaceName);
        if (namespace.isEmpty()) {
            return allowed(request, List.of()); // not enrolled: a namespace that does not exist has no label
        }
        Enrolment.Decision decision;
        try {
            decision = Enrolment.decide(namespace.get(), pod, settings.meshName());
        } catch (IllegalArgumentException e) {
            return refused(request, e.getMessage());
        }
        if (!decision.inject()) {
            LOG.debug("{}: no sidecar: {}", where, decision.reason());
            return allowed(request, List.of());
        }
        String serviceAccount = serviceAccount(pod);
        String secretName = SidecarSecrets.secretName(serviceAccount);
        try {
            Optional<Secret> renewal =
                    secrets.renewal(namespaceName, serviceAccount, cluster.secret(namespaceName, secretName));
            // A dry run must change nothing (the webhook is registered with sideEffects NoneOnDryRun).
            if (!Boolean.TRUE.equals(request.getDryRun())) {
                renewal.ifPresent(cluster::store);
            }
        } catch (KubernetesClientException e) {
            return refused(
                    request,
                    "cannot store the sidecar certificate Secret " + namespaceName + "/" + secretName + ": "
                            + e.getMessage() + "; the control plane's ServiceAccount needs create/patch on secrets");
        }
        ClusterInternalDestinations internal =
                ClusterInternalDestinations.of(settings.clusterCidrs(), cluster.meshConfig());
        internal.problems().forEach(problem -> LOG.warn("{}: {}", where, problem));
        ArrayNode patch = patch(pod, namespaceName, serviceAccount, secretName, internal);
        LOG.info("{}: sidecar injected for {}/{} ({})", where, namespaceName, serviceAccount, decision.reason());
        return new AdmissionResponseBuilder()
                .withUid(request.getUid())
                .withAllowed(true)
                .withPatchType("JSONPatch")
                .withPatch(Base64.getEncoder().encodeToString(patch.toString().getBytes(StandardCharsets.UTF_8)))
                .withWarnings(internal.problems().isEmpty() ? null : internal.problems())
                .build();
    }

    /** The JSON patch (RFC 6902) adding the sidecar to {@code pod}. */
    ArrayNode patch(
            Pod pod, String namespace, String serviceAccount, String secretName, ClusterInternalDestinations internal) {
        ArrayNode ops = JSON.createArrayNode();
        Object init = template.initContainer(namespace, serviceAccount, internal);
        if (pod.getSpec().getInitContainers() == null
                || pod.getSpec().getInitContainers().isEmpty()) {
            add(ops, "/spec/initContainers", List.of(init));
        } else {
            add(ops, "/spec/initContainers/0", init);
        }
        add(ops, "/spec/containers/-", template.sidecarContainer());
        if (pod.getSpec().getVolumes() == null || pod.getSpec().getVolumes().isEmpty()) {
            add(ops, "/spec/volumes", template.volumes(secretName));
        } else {
            template.volumes(secretName).forEach(volume -> add(ops, "/spec/volumes/-", volume));
        }
        return ops;
    }

    private static void add(ArrayNode ops, String path, Object value) {
        ObjectNode op = ops.addObject();
        op.put("op", "add");
        op.put("path", path);
        try {
            op.set("value", JSON.readTree(SERIALIZATION.asJson(value)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value, e);
        }
    }

    static boolean hasSidecar(Pod pod) {
        List<Container> all = new ArrayList<>();
        if (pod.getSpec().getContainers() != null) {
            all.addAll(pod.getSpec().getContainers());
        }
        if (pod.getSpec().getInitContainers() != null) {
            all.addAll(pod.getSpec().getInitContainers());
        }
        return all.stream()
                .anyMatch(c -> SidecarTemplate.SIDECAR_CONTAINER.equals(c.getName())
                        || SidecarTemplate.INIT_CONTAINER.equals(c.getName()));
    }

    /** The API server's ServiceAccount admission sets it before webhooks run; "default" is its own default. */
    private static String serviceAccount(Pod pod) {
        String sa = pod.getSpec().getServiceAccountName();
        return sa == null || sa.isEmpty() ? "default" : sa;
    }

    private static String podName(Pod pod) {
        String name = pod.getMetadata() == null ? null : pod.getMetadata().getName();
        if (name != null && !name.isEmpty()) {
            return name;
        }
        String generate = pod.getMetadata() == null ? null : pod.getMetadata().getGenerateName();
        return (generate == null ? "" : generate) + "*";
    }

    private static AdmissionResponse allowed(AdmissionRequest request, List<String> warnings) {
        return new AdmissionResponseBuilder()
                .withUid(request.getUid())
                .withAllowed(true)
                .withWarnings(warnings.isEmpty() ? null : warnings)
                .build();
    }

    private static AdmissionResponse refused(AdmissionRequest request, String message) {
        LOG.warn("refused pod in {}: {}", request.getNamespace(), message);
        return new AdmissionResponseBuilder()
                .withUid(request.getUid())
                .withAllowed(false)
                .withStatus(new StatusBuilder()
                        .withCode(403)
                        .withReason("Forbidden")
                        .withMessage(message)
                        .build())
                .build();
    }
}
