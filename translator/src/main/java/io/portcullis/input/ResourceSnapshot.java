package io.portcullis.input;

import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressSettings;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.MeshConfig;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Everything the translator reads, at one instant, from whatever config source is in use.
 * Immutable; lists are kept sorted by resource key so translation is deterministic.
 */
public record ResourceSnapshot(EgressSettings mesh, List<Egress> egresses, List<HTTPRouteGroup> routeGroups) {

    public static final ResourceSnapshot EMPTY = new ResourceSnapshot(EgressSettings.DEFAULTS, List.of(), List.of());

    public ResourceSnapshot {
        mesh = mesh == null ? EgressSettings.DEFAULTS : mesh;
        egresses = sorted(egresses);
        routeGroups = sorted(routeGroups);
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

    private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> List<T> sorted(List<T> resources) {
        return resources == null
                ? List.of()
                : resources.stream()
                        .sorted(Comparator.comparing(ResourceKey::of))
                        .toList();
    }
}
