package io.portcullis.crds;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;

/**
 * Result of {@link ManifestReader#read(String, String)}.
 *
 * @param resources resources read successfully, in document order ({@link Egress}, {@link
 *     HTTPRouteGroup}, {@link MeshConfig}); {@code metadata.namespace} may be null
 * @param problems documents that could not be read; each one is skipped, the others still load
 * @param ignored documents of kinds Portcullis does not handle (e.g. a Deployment), skipped on
 *     purpose; informational, not errors
 */
public record ManifestSet(List<HasMetadata> resources, List<ManifestProblem> problems, List<ManifestProblem> ignored) {

    public ManifestSet {
        resources = resources == null ? List.of() : List.copyOf(resources);
        problems = problems == null ? List.of() : List.copyOf(problems);
        ignored = ignored == null ? List.of() : List.copyOf(ignored);
    }

    public ManifestSet(List<HasMetadata> resources, List<ManifestProblem> problems) {
        this(resources, problems, List.of());
    }

    public boolean hasProblems() {
        return !problems.isEmpty();
    }

    /** The resources of one type, in document order. */
    public <T extends HasMetadata> List<T> resourcesOf(Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
