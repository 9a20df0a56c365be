package io.portcullis.kubernetes;

import io.fabric8.kubernetes.api.model.Namespace;
import io.portcullis.crds.EgressMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The egress mode of each enrolled Namespace, read from its annotation {@value EgressMode#ANNOTATION}:
 * which namespaces are audited, and a problem for every value that is neither {@code audit} nor
 * {@code enforce}. Such a namespace stays enforced (fail closed): a typo must never let refused traffic
 * through.
 *
 * <p>Only enrolled namespaces are read: the config source watches nothing else, and a namespace outside
 * the mesh has no sidecars, so its mode would change nothing. Its annotation is neither applied nor
 * reported; it takes effect when the namespace is enrolled.
 *
 * @param audited the namespaces annotated {@code audit}
 * @param problems one line per invalid annotation, naming the Namespace, the annotation and the fix
 */
public record NamespaceEgressModes(SortedSet<String> audited, List<String> problems) {

    public NamespaceEgressModes {
        audited = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(audited));
        problems = List.copyOf(problems);
    }

    /** The modes of {@code enrolled}; deterministic, whatever order the informer lists them in. */
    public static NamespaceEgressModes of(Collection<Namespace> enrolled) {
        SortedSet<String> audited = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        List<Namespace> sorted = new ArrayList<>(enrolled);
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
                + "\": its sidecars stay enforced; set it with 'portcullis namespace audit " + namespace
                + "' (or 'enforce'), or 'kubectl annotate namespace " + namespace + " " + EgressMode.ANNOTATION
                + "=" + EgressMode.AUDIT.value() + " --overwrite'";
    }
}
