package io.portcullis.input;

import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressSettings;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.MeshConfig;
import java.util.AbstractList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.RandomAccess;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Everything the translator reads, at one instant, from whatever config source is in use.
 * Immutable; lists are kept sorted by resource key so translation is deterministic.
 */
public record ResourceSnapshot(
        EgressSettings mesh,
        List<Egress> egresses,
        List<HTTPRouteGroup> routeGroups,
        SortedSet<String> auditedNamespaces) {

    public static final ResourceSnapshot EMPTY = new ResourceSnapshot(EgressSettings.DEFAULTS, List.of(), List.of());

    /**
     * @param auditedNamespaces namespaces whose annotation {@code portcullis.io/egress-mode} is {@code audit}
     *                          ({@link io.portcullis.crds.EgressMode}): their sidecars let refused traffic
     *                          through and log it as {@code would_deny}
     */
    public ResourceSnapshot {
        mesh = mesh == null ? EgressSettings.DEFAULTS : mesh;
        egresses = sorted(egresses);
        routeGroups = sorted(routeGroups);
        auditedNamespaces = auditedNamespaces == null
                ? Collections.emptySortedSet()
                : Collections.unmodifiableSortedSet(new TreeSet<>(auditedNamespaces));
    }

    /** A snapshot in which every namespace is enforced. */
    public ResourceSnapshot(EgressSettings mesh, List<Egress> egresses, List<HTTPRouteGroup> routeGroups) {
        this(mesh, egresses, routeGroups, Collections.emptySortedSet());
    }

    /** This snapshot with another set of audited namespaces. */
    public ResourceSnapshot withAuditedNamespaces(Set<String> namespaces) {
        return new ResourceSnapshot(mesh, egresses, routeGroups, new TreeSet<>(namespaces));
    }

    public static ResourceSnapshot of(MeshConfig meshConfig, List<Egress> egresses, List<HTTPRouteGroup> routeGroups) {
        return new ResourceSnapshot(EgressSettings.of(meshConfig), egresses, routeGroups);
    }

    /**
     * A snapshot of lists the caller keeps in key order by construction (e.g. read out of a map sorted by
     * {@link ResourceKey}), so they are neither sorted nor checked: at 10,000 policies the check alone, a walk of
     * every resource's kind, namespace and name, was the largest part of what the directory source did per change.
     * Checked only with assertions enabled (the tests).
     */
    public static ResourceSnapshot ofKeyOrdered(
            EgressSettings mesh,
            List<Egress> egresses,
            List<HTTPRouteGroup> routeGroups,
            SortedSet<String> auditedNamespaces) {
        assert inKeyOrder(egresses) && inKeyOrder(routeGroups) : "not in key order";
        return new ResourceSnapshot(
                mesh,
                new KeyOrdered<>(List.copyOf(egresses)),
                new KeyOrdered<>(List.copyOf(routeGroups)),
                auditedNamespaces);
    }

    public Optional<HTTPRouteGroup> routeGroup(String namespace, String name) {
        return routeGroups.stream()
                .filter(g -> namespace.equals(g.getMetadata().getNamespace())
                        && name.equals(g.getMetadata().getName()))
                .findFirst();
    }

    /**
     * Sorted by resource key. A list already in that order (a snapshot made from another's lists, or a source
     * that keeps its resources sorted) is only checked, in one pass: at 10,000 policies sorting on every change
     * was a large part of what a one-policy change cost, and {@link #withAuditedNamespaces} sorted a second time.
     * Otherwise each key is made once per resource rather than twice per comparison.
     */
    private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> List<T> sorted(List<T> resources) {
        if (resources == null) {
            return List.of();
        }
        if (resources instanceof KeyOrdered<T>) {
            return resources; // another snapshot's list, or one ofKeyOrdered was given: in order, and immutable
        }
        if (inKeyOrder(resources)) {
            return new KeyOrdered<>(List.copyOf(resources));
        }
        record Keyed<T>(ResourceKey key, T resource) {}
        return new KeyOrdered<>(resources.stream()
                .map(resource -> new Keyed<>(ResourceKey.of(resource), resource))
                .sorted(Comparator.comparing(Keyed::key))
                .map(Keyed::resource)
                .toList());
    }

    /** An immutable list known to be in key order, so that a snapshot made from it does not check it again. */
    private static final class KeyOrdered<T> extends AbstractList<T> implements RandomAccess {
        private final List<T> inOrder;

        KeyOrdered(List<T> inOrder) {
            this.inOrder = inOrder;
        }

        @Override
        public T get(int index) {
            return inOrder.get(index);
        }

        @Override
        public int size() {
            return inOrder.size();
        }
    }

    private static boolean inKeyOrder(List<? extends io.fabric8.kubernetes.api.model.HasMetadata> resources) {
        ResourceKey previous = null;
        for (io.fabric8.kubernetes.api.model.HasMetadata resource : resources) {
            ResourceKey key = ResourceKey.of(resource);
            if (previous != null && previous.compareTo(key) > 0) {
                return false;
            }
            previous = key;
        }
        return true;
    }
}
