package io.portcullis.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import java.util.List;
import java.util.Optional;

/**
 * Turns an object as the API server returned it into the typed resource the directory source would
 * read from the same manifest. It goes through the directory source's own {@link ManifestReader}, so
 * both sources accept and refuse exactly the same things with the same messages.
 *
 * <p>Only what a user writes is kept of the metadata (name, namespace, labels, annotations except
 * kubectl's {@value #LAST_APPLIED}): the fields the API server writes (resourceVersion, uid,
 * generation, managedFields, timestamps) and {@code status} change without the policy changing, and
 * must neither make two equal snapshots differ nor make a status write republish the config.
 */
final class ApiObjectReader {

    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> USER_METADATA = List.of("name", "namespace", "labels", "annotations");

    private final ManifestReader reader = new ManifestReader();

    /**
     * What one object contributes: the resource, or the problems that kept it out, each naming the
     * object ({@code Egress curl/httpbin-80}) and the field.
     */
    record Read(Optional<HasMetadata> resource, List<String> problems) {
        Read {
            problems = List.copyOf(problems);
        }
    }

    Read read(GenericKubernetesResource object) {
        String label = object.getKind() + " " + object.getMetadata().getNamespace() + "/"
                + object.getMetadata().getName();
        String json;
        try {
            ObjectNode tree = JSON.valueToTree(object);
            tree.set("metadata", userMetadata(tree.get("metadata")));
            json = JSON.writeValueAsString(tree);
        } catch (IllegalArgumentException | JsonProcessingException e) {
            return new Read(
                    Optional.empty(),
                    List.of(label + ": cannot be read as the API server returned it (" + e
                            + "); it is left out, the other resources apply"));
        }
        ManifestSet set = reader.read(json, label);
        List<String> problems = set.problems().stream()
                .map(p -> (p.resource() == null ? label : p.resource()) + ": " + p.message()
                        + " (as stored in the API server; it is left out, the other resources apply)")
                .toList();
        if (!problems.isEmpty() || set.resources().size() != 1) {
            return new Read(
                    Optional.empty(),
                    problems.isEmpty()
                            ? List.of(label + ": not an object Portcullis reads; it is left out")
                            : problems);
        }
        return new Read(Optional.of(set.resources().get(0)), List.of());
    }

    private static ObjectNode userMetadata(JsonNode metadata) {
        ObjectNode kept = JSON.createObjectNode();
        if (metadata instanceof ObjectNode given) {
            for (String field : USER_METADATA) {
                JsonNode value = given.get(field);
                if (value != null && !value.isNull()) {
                    kept.set(field, value.deepCopy());
                }
            }
        }
        if (kept.get("annotations") instanceof ObjectNode annotations) {
            annotations.remove(LAST_APPLIED);
            if (annotations.isEmpty()) {
                kept.remove("annotations");
            }
        }
        if (kept.get("labels") instanceof ObjectNode labels && labels.isEmpty()) {
            kept.remove("labels");
        }
        return kept;
    }
}
