package io.portcullis.input;

import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressSettings;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.MeshConfig;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
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
        if (inKeyOrder(resources)) {
            return List.copyOf(resources);
        }
        record Keyed<T>(ResourceKey key, T resource) {}
        return resources.stream()
                .map(resource -> new Keyed<>(ResourceKey.of(resource), resource))
                .sorted(Comparator.comparing(Keyed::key))
                .map(Keyed::resource)
                .toList();
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
