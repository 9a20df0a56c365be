package io.portcullis.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.portcullis.crds.MeshConfig;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which namespaces are in the mesh and which of their pods get a sidecar, under Flomesh Service Mesh's own
 * label and annotation names, so that namespaces enrolled with {@code fsm namespace add} carry over
 * unchanged. This class is the one owner of those names; the values and the decision below are FSM's
 * ({@code cmd/cli/namespace_add.go}, {@code pkg/injector/webhook.go} in github.com/flomesh-io/fsm):
 *
 * <ul>
 *   <li>a namespace is enrolled in mesh M when it carries the label {@value #MONITORED_BY_LABEL}{@code =M};
 *   <li>a pod of an enrolled namespace gets a sidecar when it is annotated
 *       {@value #SIDECAR_INJECTION_ANNOTATION}{@code : enabled}, or when its namespace is and the pod does not
 *       say {@code disabled} (accepted values: enabled/yes/true, disabled/no/false, any case);
 *   <li>never in {@code kube-system}, {@code kube-public} or the control plane's namespace, and never on the
 *       host network (the interception rules would be installed in the node's network namespace).
 * </ul>
 */
public final class Enrolment {

    /** Namespace label naming the mesh (the control plane) the namespace is enrolled in. */
    public static final String MONITORED_BY_LABEL = "flomesh.io/monitored-by";

    /** Namespace or pod annotation turning sidecar injection on or off. */
    public static final String SIDECAR_INJECTION_ANNOTATION = "flomesh.io/sidecar-injection";

    /** Namespace label FSM's {@code namespace ignore} sets; such a namespace cannot be enrolled. */
    public static final String IGNORE_LABEL = "flomesh.io/ignore";

    /** Namespace annotation FSM's {@code namespace remove} clears together with the enrolment. */
    public static final String METRICS_ANNOTATION = "flomesh.io/metrics";

    /** FSM's default mesh name ({@code --mesh-name}). */
    public static final String DEFAULT_MESH_NAME = "fsm";

    public static final String ENABLED = "enabled";
    public static final String DISABLED = "disabled";

    /** Namespaces whose pods never get a sidecar, whatever their labels say. */
    public static final Set<String> NEVER_INJECTED = Set.of("kube-system", "kube-public", MeshConfig.DEFAULT_NAMESPACE);

    private static final Set<String> ON = Set.of("enabled", "yes", "true");
    private static final Set<String> OFF = Set.of("disabled", "no", "false");

    private Enrolment() {}

    /** The label selector of the namespaces enrolled in {@code meshName}. */
    public static String selector(String meshName) {
        return MONITORED_BY_LABEL + "=" + meshName;
    }

    /** True when the namespace carries {@value #MONITORED_BY_LABEL}{@code =meshName}. */
    public static boolean enrolled(Namespace namespace, String meshName) {
        return meshName.equals(labels(namespace).get(MONITORED_BY_LABEL));
    }

    /**
     * The value of {@value #SIDECAR_INJECTION_ANNOTATION} on a namespace or pod: on, off, or not set.
     *
     * @throws IllegalArgumentException naming the object and the accepted values, for any other value
     */
    public static Optional<Boolean> injectionAnnotation(HasMetadata object) {
        String value = annotations(object).get(SIDECAR_INJECTION_ANNOTATION);
        if (value == null) {
            return Optional.empty();
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (ON.contains(v)) {
            return Optional.of(true);
        }
        if (OFF.contains(v)) {
            return Optional.of(false);
        }
        throw new IllegalArgumentException(object.getKind() + " " + name(object) + " has annotation "
                + SIDECAR_INJECTION_ANNOTATION + ": \"" + value + "\"; use \"" + ENABLED + "\" or \"" + DISABLED
                + "\"");
    }

    /** Whether a pod gets a sidecar, and why (for the log and the admission warning). */
    public record Decision(boolean inject, String reason) {}

    /**
     * FSM's decision for a pod created in {@code namespace}.
     *
     * @throws IllegalArgumentException when an injection annotation has a value FSM does not accept either
     */
    public static Decision decide(Namespace namespace, Pod pod, String meshName) {
        String ns = namespace.getMetadata().getName();
        if (NEVER_INJECTED.contains(ns)) {
            return new Decision(false, "namespace " + ns + " never gets sidecars");
        }
        if (!enrolled(namespace, meshName)) {
            return new Decision(false, "namespace " + ns + " is not enrolled in mesh " + meshName);
        }
        if (pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
            return new Decision(false, "the pod uses the host network: its interception rules would be the node's");
        }
        Optional<Boolean> podSays = injectionAnnotation(pod);
        Optional<Boolean> namespaceSays = injectionAnnotation(namespace);
        if (podSays.orElse(false)) {
            return new Decision(true, "the pod is annotated " + SIDECAR_INJECTION_ANNOTATION + ": enabled");
        }
        if (podSays.isPresent()) {
            return new Decision(false, "the pod opted out: " + SIDECAR_INJECTION_ANNOTATION + ": disabled");
        }
        if (namespaceSays.orElse(false)) {
            return new Decision(true, "namespace " + ns + " has sidecar injection enabled");
        }
        return new Decision(false, "namespace " + ns + " has sidecar injection disabled or not set");
    }

    /**
     * The strategic merge patch of {@code fsm namespace add}: the mesh label, and injection enabled or
     * disabled.
     */
    public static Map<String, Object> addPatch(String meshName, boolean disableSidecarInjection) {
        // Ordered as FSM writes it: labels, then annotations.
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("labels", Map.of(MONITORED_BY_LABEL, meshName));
        metadata.put("annotations", Map.of(SIDECAR_INJECTION_ANNOTATION, disableSidecarInjection ? DISABLED : ENABLED));
        return Map.of("metadata", metadata);
    }

    /**
     * The strategic merge patch of {@code fsm namespace remove} as JSON: {@code null} removes just that key,
     * so the namespace's other labels and annotations are untouched.
     */
    public static String removePatchJson() {
        return "{\"metadata\":{\"labels\":{\"" + MONITORED_BY_LABEL + "\":null,\"" + IGNORE_LABEL
                + "\":null},\"annotations\":{\"" + SIDECAR_INJECTION_ANNOTATION + "\":null,\"" + METRICS_ANNOTATION
                + "\":null}}}";
    }

    /** What {@code namespace list} shows in its SIDECAR-INJECTION column, as {@code fsm namespace list} does. */
    public static String injectionColumn(Namespace namespace) {
        if (labels(namespace).containsKey(IGNORE_LABEL)) {
            return "disabled (ignored)";
        }
        return annotations(namespace).getOrDefault(SIDECAR_INJECTION_ANNOTATION, "-");
    }

    private static Map<String, String> labels(HasMetadata object) {
        Map<String, String> labels =
                object.getMetadata() == null ? null : object.getMetadata().getLabels();
        return labels == null ? Map.of() : labels;
    }

    private static Map<String, String> annotations(HasMetadata object) {
        Map<String, String> annotations =
                object.getMetadata() == null ? null : object.getMetadata().getAnnotations();
        return annotations == null ? Map.of() : annotations;
    }

    private static String name(HasMetadata object) {
        if (object.getMetadata() == null) {
            return "(unnamed)";
        }
        String name = object.getMetadata().getName();
        if (name == null || name.isEmpty()) {
            name = object.getMetadata().getGenerateName() + "*";
        }
        String ns = object.getMetadata().getNamespace();
        return ns == null || ns.isEmpty() ? name : ns + "/" + name;
    }
}
