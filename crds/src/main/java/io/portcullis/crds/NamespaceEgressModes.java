package io.portcullis.crds;

import io.fabric8.kubernetes.api.model.Namespace;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which namespaces are in audit mode, from their {@value EgressMode#ANNOTATION} annotation: the one reading
 * of that annotation, shared by the directory source (Namespace manifests) and the Kubernetes source
 * (enrolled Namespaces from its informer).
 *
 * @param audited  names of the namespaces annotated {@code audit}
 * @param problems one line per namespace whose annotation is neither {@code audit} nor {@code enforce}: it
 *                 names the resource, the field and the fix; such a namespace stays enforced (fail closed)
 */
public record NamespaceEgressModes(SortedSet<String> audited, List<String> problems) {

    public NamespaceEgressModes {
        audited = Collections.unmodifiableSortedSet(new TreeSet<>(audited));
        problems = List.copyOf(problems);
    }

    /** The modes of {@code namespaces}; deterministic, whatever order a source lists them in. */
    public static NamespaceEgressModes of(Collection<Namespace> namespaces) {
        SortedSet<String> audited = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        List<Namespace> sorted = new ArrayList<>(namespaces);
        sorted.sort(Comparator.comparing(n -> n.getMetadata().getName()));
        for (Namespace namespace : sorted) {
            String name = namespace.getMetadata().getName();
            Optional<String> value = EgressMode.annotation(namespace);
            if (value.isEmpty()) {
                continue;
            }
            Optional<EgressMode> mode = EgressMode.parse(value.get());
            if (mode.isEmpty()) {
                problems.add(invalid(name, value.get()));
            } else if (mode.get() == EgressMode.AUDIT) {
                audited.add(name);
            }
        }
        return new NamespaceEgressModes(audited, problems);
    }

    /** The problem for an annotation value that names no mode. */
    static String invalid(String namespace, String value) {
        return "Namespace " + namespace + ": metadata.annotations[\"" + EgressMode.ANNOTATION + "\"] is \"" + value
                + "\", which is neither \"" + EgressMode.AUDIT.value() + "\" nor \"" + EgressMode.ENFORCE.value()
                + "\": its sidecars stay enforced; set it to \"" + EgressMode.AUDIT.value()
                + "\" to let refused egress through as would_deny, or \"" + EgressMode.ENFORCE.value()
                + "\" ('portcullis namespace audit|enforce " + namespace + "' on Kubernetes, or the annotation in the"
                + " Namespace manifest of the config directory)";
    }
}
