package io.portcullis.crds;

import io.fabric8.kubernetes.api.model.Namespace;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which namespaces are in audit mode, from their {@value EgressMode#ANNOTATION} annotation, for config
 * sources that read Namespace manifests.
 *
 * @param audited  names of the namespaces annotated {@code audit}
 * @param problems one line per namespace whose annotation is neither {@code audit} nor {@code enforce}: it
 *                 names the resource, the field and the fix; such a namespace stays enforced (fail closed)
 */
public record NamespaceEgressModes(SortedSet<String> audited, List<String> problems) {

    public NamespaceEgressModes {
        audited = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(audited));
        problems = List.copyOf(problems);
    }

    public static NamespaceEgressModes of(Collection<Namespace> namespaces) {
        SortedSet<String> audited = new TreeSet<>();
        List<String> problems = new java.util.ArrayList<>();
        for (Namespace namespace : namespaces) {
            String name = namespace.getMetadata().getName();
            Optional<String> value = EgressMode.annotation(namespace);
            if (value.isEmpty()) {
                continue;
            }
            Optional<EgressMode> mode = EgressMode.parse(value.get());
            if (mode.isEmpty()) {
                problems.add("Namespace " + name + " metadata.annotations[\"" + EgressMode.ANNOTATION + "\"]: is \""
                        + value.get() + "\", which is neither \"audit\" nor \"enforce\"; the namespace stays"
                        + " enforced. Set it to \"audit\" to let refused egress through as would_deny, or remove it");
            } else if (mode.get() == EgressMode.AUDIT) {
                audited.add(name);
            }
        }
        return new NamespaceEgressModes(audited, problems);
    }
}
