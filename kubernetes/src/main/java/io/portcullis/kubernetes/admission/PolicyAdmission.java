package io.portcullis.kubernetes.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GroupVersionKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressMatch;
import io.portcullis.crds.EgressMode;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.HTTPRouteGroupSpec;
import io.portcullis.crds.HttpMatch;
import io.portcullis.crds.ManifestProblem;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.validation.EgressRule;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.validation.PolicyValidator;
import io.portcullis.validation.ValidatedPolicies;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validating webhook ({@code /validate}) for Egress and HTTPRouteGroup: refuses at {@code kubectl
 * apply} what the CRD schema cannot say and the control plane would refuse anyway (hosts required for
 * http/https, regexes Envoy's RE2 accepts, tcp-server-first alone on its port, source names, CIDRs...).
 *
 * <p>It decides nothing of its own: it reads the object as the directory source reads a manifest
 * ({@link ManifestReader}) and runs the control plane's {@link PolicyValidator} (through {@link
 * EgressTranslator}) on a snapshot holding just that object. Every error refuses the object, with one
 * line per problem naming the field (a JSON path) and the fix; warnings go back as admission warnings,
 * which kubectl prints as {@code Warning: ...}.
 *
 * <p>Not refused, because they depend on the order objects are applied in: an Egress whose
 * {@code spec.matches[]} names an HTTPRouteGroup that does not exist yet, or that exists with errors.
 * The snapshot holds a stand-in, always valid, for every group an Egress names, so those facts never
 * reach the verdict; the Egress's status condition reports them once both are stored.
 *
 * <p>Also refused: an Egress whose annotation {@code portcullis.io/egress-mode} is neither {@code audit}
 * nor {@code enforce} ({@link EgressMode}).
 *
 * <p>Always allowed: DELETE and CONNECT; an UPDATE that leaves {@code spec} and the egress mode annotation
 * as stored (labels, other annotations, finalizers), so an object stored before the webhook existed can
 * still be relabelled or released; other kinds (a misconfigured rule must not block what Portcullis does
 * not own).
 */
public final class PolicyAdmission implements AdmissionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyAdmission.class);
    private static final ObjectMapper TREE = new ObjectMapper();
    /** The HTTP status the API server returns to kubectl with the refusal: a semantically invalid object. */
    static final int REFUSED_CODE = 422;
    /** The field of the egress mode annotation, as refusals name it (a JSON path, like the other fields). */
    static final String MODE_FIELD = "metadata.annotations[\"" + EgressMode.ANNOTATION + "\"]";

    private final EgressTranslator translator = new EgressTranslator();
    private final ManifestReader reader = new ManifestReader();
    private final KubernetesSerialization json = new KubernetesSerialization();

    @Override
    public AdmissionResponse review(AdmissionRequest request) {
        String operation = String.valueOf(request.getOperation());
        if (!operation.equals("CREATE") && !operation.equals("UPDATE")) {
            return allowed(List.of());
        }
        GroupVersionKind kind = request.getKind();
        boolean egress = kind != null && Egress.GROUP.equals(kind.getGroup()) && Egress.KIND.equals(kind.getKind());
        boolean routeGroup = kind != null
                && HTTPRouteGroup.GROUP.equals(kind.getGroup())
                && HTTPRouteGroup.KIND.equals(kind.getKind());
        if (!egress && !routeGroup) {
            LOG.warn(
                    "/validate was called for {} {}/{}, which Portcullis does not validate; allowed. Check the rules"
                            + " of ValidatingWebhookConfiguration {}",
                    kind,
                    request.getNamespace(),
                    request.getName(),
                    WebhookService.VALIDATING_CONFIGURATION);
            return allowed(List.of());
        }
        ObjectNode object = tree(request.getObject());
        if (object == null) {
            return refused(describe(request), List.of("the request carries no object"));
        }
        if (request.getNamespace() != null && !object.path("metadata").has("namespace")) {
            object.withObject("metadata").put("namespace", request.getNamespace());
        }
        ManifestSet read = reader.read(object.toString(), "admission");
        List<String> refusals = new ArrayList<>();
        for (ManifestProblem problem : read.problems()) {
            refusals.add(problem.message());
        }
        List<String> warnings = new ArrayList<>();
        Optional<HasMetadata> resource = read.resources().stream().findFirst();
        if (resource.isPresent()) {
            ValidatedPolicies validated = translator.validate(snapshotOf(resource.get()));
            ResourceKey key = ResourceKey.of(resource.get());
            for (PolicyProblem problem : validated.problems()) {
                if (!problem.resource().equals(key)) {
                    continue; // a stand-in's; never happens for a valid stand-in, but it is not this object's
                }
                if (problem.field().contains(EgressMode.ANNOTATION)) {
                    continue; // the mode annotation is judged below, on its own rule for updates
                }
                String line = problem.field() + ": " + problem.message();
                (problem.severity() == PolicyProblem.Severity.ERROR ? refusals : warnings).add(line);
            }
            warnings.addAll(portConflicts(validated, key));
        }
        Optional<String> invalidMode = egress ? invalidMode(object) : Optional.empty();
        if (refusals.isEmpty() && invalidMode.isEmpty()) {
            return allowed(warnings);
        }
        // An object stored before the webhook existed (or with older rules) may still be relabelled or
        // released: what an UPDATE leaves as stored is a warning, what it changes must be valid.
        ObjectNode old = operation.equals("UPDATE") ? tree(request.getOldObject()) : null;
        List<String> kept = new ArrayList<>(warnings);
        List<String> refusing = new ArrayList<>();
        if (!refusals.isEmpty()) {
            if (specUnchanged(object, old)) {
                refusals.forEach(r -> kept.add("stored with errors, the control plane does not enforce it: " + r));
            } else {
                refusing.addAll(refusals);
            }
        }
        invalidMode.ifPresent(problem -> {
            if (old != null && Objects.equals(modeAnnotation(object), modeAnnotation(old))) {
                kept.add("stored with an invalid egress mode, the control plane enforces it: " + problem);
            } else {
                refusing.add(problem);
            }
        });
        if (refusing.isEmpty()) {
            return allowed(kept);
        }
        return refused(resource.map(r -> ResourceKey.of(r).toString()).orElse(describe(request)), refusing);
    }

    /**
     * The refusal of an Egress's annotation {@value EgressMode#ANNOTATION} when it names no mode. The control
     * plane would enforce such an Egress (a typo must not open a hole) and report it; refusing it here tells
     * the author at {@code kubectl apply} that the audit they asked for is not happening.
     */
    private static Optional<String> invalidMode(ObjectNode object) {
        JsonNode value = modeAnnotation(object);
        if (value.isMissingNode()
                || (value.isTextual() && EgressMode.parse(value.asText()).isPresent())) {
            return Optional.empty();
        }
        return Optional.of(MODE_FIELD + ": " + value + " is neither \"" + EgressMode.AUDIT.value() + "\" nor \""
                + EgressMode.ENFORCE.value() + "\"; write \"" + EgressMode.AUDIT.value()
                + "\" (let through what this Egress's ports would refuse, logged as would_deny) or \""
                + EgressMode.ENFORCE.value() + "\", or remove the annotation (enforce)");
    }

    private static JsonNode modeAnnotation(ObjectNode object) {
        return object.path("metadata").path("annotations").path(EgressMode.ANNOTATION);
    }

    /**
     * Just the object, and for an Egress a valid stand-in for every HTTPRouteGroup its matches name: whether
     * those exist, and are valid, is for the status to report (they may be applied after the Egress).
     */
    private static ResourceSnapshot snapshotOf(HasMetadata resource) {
        if (resource instanceof HTTPRouteGroup group) {
            return new ResourceSnapshot(null, List.of(), List.of(group));
        }
        Egress egress = (Egress) resource;
        List<HTTPRouteGroup> standIns = new ArrayList<>();
        Set<String> named = new LinkedHashSet<>();
        if (egress.getSpec() != null) {
            for (EgressMatch match : egress.getSpec().matches()) {
                if (match.name() != null && named.add(match.name())) {
                    standIns.add(new HTTPRouteGroup(
                            egress.getMetadata().getNamespace(),
                            match.name(),
                            new HTTPRouteGroupSpec(List.of(new HttpMatch("any", ".*", List.of(), Map.of())))));
                }
            }
        }
        return new ResourceSnapshot(null, List.of(egress), standIns);
    }

    /**
     * What the object contradicts in itself on a port, as the control plane's model builder says it for each
     * identity the object names (the snapshot holds no other policy, so every conflict is this object's own).
     */
    private List<String> portConflicts(ValidatedPolicies validated, ResourceKey key) {
        Set<String> lines = new LinkedHashSet<>();
        for (EgressRule rule : validated.rules()) {
            for (ServiceAccountRef identity : rule.sources()) {
                if (!(translator.model(validated, identity) instanceof SidecarEgressModel.PolicyEnforced enforced)) {
                    continue; // passthrough and deny-all enforce no policy, so nothing conflicts
                }
                for (PolicyProblem conflict : enforced.conflicts()) {
                    if (conflict.resource().equals(key)) {
                        lines.add(conflict.field() + ": " + conflict.message());
                    }
                }
            }
        }
        return List.copyOf(lines);
    }

    /** The object as the API server sent it, whatever Java type the review's decoder chose for it. */
    private ObjectNode tree(Object object) {
        if (object == null) {
            return null;
        }
        try {
            return TREE.readTree(json.asJson(object)) instanceof ObjectNode node ? node : null;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot re-read the object of the review: " + e.getMessage(), e);
        }
    }

    private static boolean specUnchanged(ObjectNode object, ObjectNode old) {
        return old != null && Objects.equals(object.get("spec"), old.get("spec"));
    }

    private static String describe(AdmissionRequest request) {
        GroupVersionKind kind = request.getKind();
        return (kind == null ? "object" : kind.getKind()) + " "
                + (request.getNamespace() == null ? "" : request.getNamespace() + "/") + request.getName();
    }

    private static AdmissionResponse allowed(List<String> warnings) {
        return new AdmissionResponseBuilder()
                .withAllowed(true)
                .withWarnings(warnings.isEmpty() ? null : warnings)
                .build();
    }

    /**
     * One line per problem after the resource, so kubectl shows each field and its fix on its own line, after
     * {@code admission webhook "..." denied the request:}.
     */
    static AdmissionResponse refused(String resource, List<String> problems) {
        StringBuilder message = new StringBuilder(resource).append(" is invalid");
        if (problems.size() == 1) {
            message.append(": ").append(problems.get(0));
        } else {
            message.append(" (").append(problems.size()).append(" problems):");
            problems.forEach(p -> message.append("\n- ").append(p));
        }
        Status status = new StatusBuilder()
                .withStatus("Failure")
                .withCode(REFUSED_CODE)
                .withReason("Invalid")
                .withMessage(message.toString())
                .build();
        return new AdmissionResponseBuilder()
                .withAllowed(false)
                .withStatus(status)
                .build();
    }
}
