package io.portcullis.kubernetes.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import java.util.Objects;
import java.util.Optional;

/**
 * Which generation of an object an evaluation saw. The Kubernetes config source keeps only what users
 * write in a snapshot (no generation, so a status write never changes a snapshot). The object the API
 * server has now may be newer than the one evaluated; its generation is the evaluated one exactly when
 * its spec, read the way every source reads manifests, is the evaluated spec (for a custom resource with
 * a status subresource, the generation changes when and only when the spec does). Otherwise nothing is
 * written for it now: the evaluation of its new spec is on its way and brings its own status.
 */
final class EvaluatedGeneration {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ManifestReader reader = new ManifestReader();

    Optional<Long> of(PolicyStatus wanted, GenericKubernetesResource server) {
        if (wanted.generation() != null) {
            return Optional.of(wanted.generation());
        }
        if (wanted.evaluatedSpec() == null || server.getMetadata().getGeneration() == null) {
            return Optional.empty();
        }
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("apiVersion", server.getApiVersion());
        manifest.put("kind", server.getKind());
        manifest.putObject("metadata")
                .put("name", server.getMetadata().getName())
                .put("namespace", server.getMetadata().getNamespace());
        Object spec = server.getAdditionalProperties().get("spec");
        if (spec != null) {
            manifest.set("spec", JSON.valueToTree(spec));
        }
        ManifestSet read = reader.read(manifest.toString(), wanted.resource().toString());
        if (!read.problems().isEmpty() || read.resources().size() != 1) {
            return Optional.empty();
        }
        HasMetadata stored = read.resources().get(0);
        return stored instanceof CustomResource<?, ?> resource
                        && Objects.equals(resource.getSpec(), wanted.evaluatedSpec())
                ? Optional.of(server.getMetadata().getGeneration())
                : Optional.empty();
    }
}
