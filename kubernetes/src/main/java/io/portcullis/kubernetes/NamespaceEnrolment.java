package io.portcullis.kubernetes;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.portcullis.crds.EgressMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code portcullis namespace add|remove|list}: enrols namespaces the way {@code fsm namespace add|remove|list}
 * does, with the same strategic merge patches of the namespace's labels and annotations
 * ({@link Enrolment}) and the same messages, so either tool can undo or list what the other did.
 * {@code portcullis namespace audit|enforce} sets the namespace's {@link EgressMode} annotation the same way.
 */
public record NamespaceEnrolment(KubernetesClient client) {

    /**
     * Enrols each namespace in {@code meshName}, with sidecar injection on unless {@code disableSidecarInjection}.
     *
     * @return one line per namespace, as FSM prints it
     * @throws IllegalArgumentException naming the namespace when it cannot be enrolled
     */
    public List<String> add(List<String> namespaces, String meshName, boolean disableSidecarInjection) {
        List<String> out = new ArrayList<>();
        for (String name : namespaces) {
            Namespace namespace = get(name, "Could not add namespace [" + name + "] to mesh [" + meshName + "]");
            if (Enrolment.enrolled(namespace, meshName)
                    && Enrolment.injectionAnnotation(namespace).orElse(false) == !disableSidecarInjection) {
                out.add("Namespace [" + name + "] has already been added to mesh [" + meshName + "]");
                continue;
            }
            if ("true".equals(labels(namespace).get(Enrolment.IGNORE_LABEL))) {
                throw new IllegalArgumentException("Cannot add ignored namespace [" + name + "] (label "
                        + Enrolment.IGNORE_LABEL + "=true; remove it first)");
            }
            patch(
                    name,
                    Serialization.asJson(Enrolment.addPatch(meshName, disableSidecarInjection)),
                    "Could not add namespace [" + name + "] to mesh [" + meshName + "]");
            out.add("Namespace [" + name + "] successfully added to mesh [" + meshName + "]");
        }
        return out;
    }

    /**
     * Takes the namespace out of {@code meshName}: removes the mesh label and the injection annotation. Pods
     * already running keep their sidecars until they are recreated.
     *
     * @throws IllegalArgumentException when it is enrolled in another mesh
     */
    public String remove(String name, String meshName) {
        Namespace namespace = get(name, "Could not get namespace [" + name + "]");
        String mesh = labels(namespace).get(Enrolment.MONITORED_BY_LABEL);
        if (mesh == null) {
            return "Namespace [" + name + "] already does not belong to any mesh";
        }
        if (!mesh.equals(meshName)) {
            throw new IllegalArgumentException("Namespace belongs to mesh [" + mesh + "], not mesh [" + meshName
                    + "]. Please specify the correct mesh");
        }
        patch(
                name,
                Enrolment.removePatchJson(),
                "Could not remove namespace [" + name + "] from mesh [" + meshName + "]");
        return "Namespace [" + name + "] successfully removed from mesh [" + meshName + "]";
    }

    /**
     * Sets the namespace's annotation {@value EgressMode#ANNOTATION} to {@code mode}, with a strategic merge
     * patch of that one key, so its other annotations and labels are untouched, and so is the mode of any
     * other namespace. A namespace outside the mesh gets the annotation too (it applies once the namespace is
     * enrolled), with a second line saying so.
     *
     * @return what was done, one line each, in FSM's style
     * @throws IllegalArgumentException naming the namespace when it does not exist or cannot be patched
     */
    public List<String> setMode(String name, EgressMode mode, String meshName) {
        Namespace namespace = get(name, "Could not set the egress mode of namespace [" + name + "]");
        List<String> out = new ArrayList<>();
        if (EgressMode.annotation(namespace).filter(mode.value()::equals).isPresent()) {
            out.add("Namespace [" + name + "] is already in egress mode [" + mode.value() + "]");
        } else {
            patch(
                    name,
                    Serialization.asJson(
                            Map.of("metadata", Map.of("annotations", Map.of(EgressMode.ANNOTATION, mode.value())))),
                    "Could not set the egress mode of namespace [" + name + "]");
            out.add("Namespace [" + name + "] egress mode set to [" + mode.value() + "]: " + meaning(mode));
        }
        if (!Enrolment.enrolled(namespace, meshName)) {
            out.add("Namespace [" + name + "] is not in mesh [" + meshName + "]: the mode applies once it is"
                    + " enrolled ('portcullis namespace add " + name + "')");
        }
        return out;
    }

    private static String meaning(EgressMode mode) {
        return switch (mode) {
            case AUDIT ->
                "its sidecars let through what the policies refuse and log it as would_deny (annotation "
                        + EgressMode.ANNOTATION + "=" + mode.value() + ")";
            case ENFORCE -> "its sidecars refuse what the policies do not allow";
        };
    }

    /**
     * What {@code namespace list} shows in its EGRESS-MODE column: the mode the control plane applies, and
     * for a value it does not accept, that value too (it is enforced, and reported).
     */
    static String modeColumn(Namespace namespace) {
        Optional<String> value = EgressMode.annotation(namespace);
        if (value.isPresent() && EgressMode.parse(value.get()).isEmpty()) {
            return EgressMode.ENFORCE.value() + " (invalid: " + EgressMode.ANNOTATION + "=" + value.get() + ")";
        }
        return EgressMode.of(namespace).value();
    }

    /**
     * The enrolled namespaces (of {@code meshName}, or of any mesh when it is empty) with their injection setting
     * and egress mode.
     */
    public String list(String meshName) {
        String selector = meshName.isEmpty() ? Enrolment.MONITORED_BY_LABEL : Enrolment.selector(meshName);
        List<Namespace> namespaces;
        try {
            namespaces = new ArrayList<>(
                    client.namespaces().withLabelSelector(selector).list().getItems());
        } catch (KubernetesClientException e) {
            throw new IllegalArgumentException("Could not list namespaces: " + e.getMessage(), e);
        }
        if (namespaces.isEmpty()) {
            return meshName.isEmpty() ? "No namespaces in any mesh\n" : "No namespaces in mesh [" + meshName + "]\n";
        }
        namespaces.sort(Comparator.comparing(ns -> ns.getMetadata().getName()));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAMESPACE", "MESH", "SIDECAR-INJECTION", "EGRESS-MODE"});
        for (Namespace ns : namespaces) {
            rows.add(new String[] {
                ns.getMetadata().getName(),
                labels(ns).get(Enrolment.MONITORED_BY_LABEL),
                Enrolment.injectionColumn(ns),
                modeColumn(ns)
            });
        }
        int columns = rows.get(0).length;
        int[] width = new int[columns];
        rows.forEach(row -> {
            for (int i = 0; i < columns; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        });
        StringBuilder table = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(i == 0 ? "" : "   ").append(String.format("%-" + width[i] + "s", row[i]));
            }
            table.append(line.toString().stripTrailing()).append('\n');
        }
        return table.toString();
    }

    private Namespace get(String name, String failure) {
        Namespace namespace;
        try {
            namespace = client.namespaces().withName(name).get();
        } catch (KubernetesClientException e) {
            throw new IllegalArgumentException(failure + ": " + e.getMessage(), e);
        }
        if (namespace == null) {
            throw new IllegalArgumentException(failure + ": namespaces \"" + name + "\" not found");
        }
        return namespace;
    }

    private void patch(String name, String json, String failure) {
        try {
            client.namespaces().withName(name).patch(PatchContext.of(PatchType.STRATEGIC_MERGE), json);
        } catch (KubernetesClientException e) {
            throw new IllegalArgumentException(failure + ": " + e.getMessage(), e);
        }
    }

    private static java.util.Map<String, String> labels(Namespace namespace) {
        var labels = namespace.getMetadata().getLabels();
        return labels == null ? java.util.Map.of() : labels;
    }
}
