package io.portcullis.crds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;

/**
 * JSON merge patch (RFC 7386), as {@code kubectl patch --type=merge -p '<json>'} applies it: an
 * object in the patch is merged key by key, {@code null} deletes a key, any other value (lists
 * included) replaces the target value.
 */
public final class MergePatch {
    private MergePatch() {}

    /**
     * Applies {@code jsonPatch} to a copy of {@code resource}; the argument is not modified.
     *
     * @param jsonPatch a JSON object (YAML flow/block syntax is accepted too, like kubectl)
     * @return a new resource of the same class, with every field the patch does not touch kept
     *     (for {@link MeshConfig} including the fields Portcullis does not model)
     * @throws IllegalArgumentException if the patch is not a JSON object, would change apiVersion,
     *     kind, metadata.name or metadata.namespace, or produces an invalid resource (the message
     *     names the field)
     */
    @SuppressWarnings("unchecked")
    public static <T extends HasMetadata> T apply(T resource, String jsonPatch) {
        Objects.requireNonNull(resource, "resource");
        if (jsonPatch == null || jsonPatch.isBlank()) {
            throw new IllegalArgumentException("the merge patch is empty: give a JSON object, e.g."
                    + " '{\"spec\":{\"traffic\":{\"enableEgress\":false}}}'");
        }
        JsonNode patch;
        try {
            patch = Yaml.LENIENT.readTree(jsonPatch);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the merge patch is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (patch == null || !patch.isObject()) {
            throw new IllegalArgumentException("the merge patch must be a JSON object such as '{\"spec\":{...}}', not "
                    + HttpHeadersDeserializer.describe(patch));
        }
        JsonNode before = Yaml.LENIENT.valueToTree(resource);
        JsonNode after = apply(before, patch);
        for (String field : new String[] {"/apiVersion", "/kind", "/metadata/name", "/metadata/namespace"}) {
            JsonNode was = before.at(field);
            JsonNode now = after.at(field);
            if (!was.equals(now)) {
                throw new IllegalArgumentException(
                        "the merge patch changes " + field.substring(1).replace('/', '.') + " from "
                                + (was.isMissingNode() ? "(unset)" : was.asText()) + " to "
                                + (now.isMissingNode() ? "(unset)" : now.asText())
                                + ": a patch cannot move, rename or retype a resource; remove that field from"
                                + " the patch");
            }
        }
        try {
            return (T) Conversion.toResource(after, resource.getClass());
        } catch (Conversion.InvalidResourceException e) {
            throw new IllegalArgumentException("the patched resource is invalid: " + e.getMessage(), e);
        }
    }

    /**
     * RFC 7386 MergePatch(target, patch) on Jackson trees. Returns a new tree; neither argument is
     * modified.
     */
    public static JsonNode apply(JsonNode target, JsonNode patch) {
        if (patch == null || !patch.isObject()) {
            return patch == null ? null : patch.deepCopy();
        }
        ObjectNode result = target != null && target.isObject()
                ? ((ObjectNode) target).deepCopy()
                : Yaml.LENIENT.getNodeFactory().objectNode();
        Iterator<Map.Entry<String, JsonNode>> fields = patch.properties().iterator();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getValue().isNull()) {
                result.remove(f.getKey());
            } else {
                result.set(f.getKey(), apply(result.get(f.getKey()), f.getValue()));
            }
        }
        return result;
    }
}
