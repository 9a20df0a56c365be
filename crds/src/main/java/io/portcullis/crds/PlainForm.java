package io.portcullis.crds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The plain form of an Egress or HTTPRouteGroup document: only fields the model binds, each of exactly the JSON
 * type it binds to without coercion (a string as a non-empty string, a port number as a whole number, a list as a
 * list), no {@code null}, nothing the model keeps as written ({@code mtls}, list-form headers, metadata beyond name,
 * namespace, labels and annotations), no {@code status}. Binding such a document to the fabric8 model ({@link
 * Conversion}) cannot fail; all it does is order the fields and leave out empty lists, which {@link #of} does on the
 * tree, so what {@link ManifestWriter} writes for the bound resource can be written from the tree ({@link
 * ManifestObject.Plain}).
 *
 * <p>Why: binding the fabric8 model cold (Jackson introspecting {@code CustomResource}, {@code ObjectMeta} and their
 * annotations, none of which a JDK 25 start-up cache keeps) was about half of {@code portcullis apply}'s CPU. This
 * class never decides that a document is wrong, only that it is plainly right: for anything else {@link #of} is
 * empty and the document is bound as before, which reports its problems with the same messages.
 * {@code PlainFormTest} checks that the two write the same bytes.
 */
final class PlainForm {

    private PlainForm() {}

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** ObjectMeta's fields in the order fabric8 writes them (its {@code @JsonPropertyOrder}). */
    private static final List<String> METADATA = List.of("annotations", "labels", "name", "namespace");

    private static final List<String> TOP_LEVEL = List.of("apiVersion", "kind", "metadata", "spec");
    private static final List<String> EGRESS_SPEC = List.of("sources", "hosts", "ipAddresses", "ports", "matches");
    private static final List<String> EGRESS_SOURCE = List.of("kind", "name", "namespace");
    private static final List<String> EGRESS_PORT = List.of("number", "protocol");
    private static final List<String> EGRESS_MATCH = List.of("apiGroup", "kind", "name");
    private static final List<String> ROUTE_GROUP_SPEC = List.of("matches");
    private static final List<String> HTTP_MATCH = List.of("name", "pathRegex", "methods", "headers");

    /**
     * The document as the model would write it back (fields in the model's order, empty lists left out; {@code
     * metadata.namespace} as written, possibly absent), or empty when it is not in plain form.
     *
     * @param doc a document {@link ManifestReader} has checked: {@code kind}, {@code apiVersion} and {@code
     *     metadata} valid, {@code spec} present
     */
    static Optional<ObjectNode> of(JsonNode doc, KnownKind known) {
        boolean egress = known.type() == Egress.class;
        if (!egress && known.type() != HTTPRouteGroup.class) {
            return Optional.empty();
        }
        if (!hasOnly(doc, TOP_LEVEL)) {
            return Optional.empty();
        }
        ObjectNode metadata = metadata(doc.get("metadata"));
        ObjectNode spec = egress ? egressSpec(doc.get("spec")) : routeGroupSpec(doc.get("spec"));
        if (metadata == null || spec == null || spec.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode out = NODES.objectNode();
        out.put("apiVersion", known.apiVersion());
        out.put("kind", known.kind());
        out.set("metadata", metadata);
        out.set("spec", spec);
        return Optional.of(out);
    }

    private static ObjectNode metadata(JsonNode metadata) {
        if (!hasOnly(metadata, METADATA) || !isText(metadata.get("name"))) {
            return null;
        }
        ObjectNode out = NODES.objectNode();
        for (String field : METADATA) {
            JsonNode value = metadata.get(field);
            if (value == null) {
                continue;
            }
            boolean map = field.equals("annotations") || field.equals("labels");
            if (map ? !isTextMap(value) : !isText(value)) {
                return null;
            }
            out.set(field, value.deepCopy());
        }
        return out;
    }

    private static ObjectNode egressSpec(JsonNode spec) {
        return object(spec, EGRESS_SPEC, (field, value) -> switch (field) {
            case "sources" -> list(value, entry -> object(entry, EGRESS_SOURCE, PlainForm::text));
            case "ports" -> list(value, entry -> object(entry, EGRESS_PORT, PlainForm::portField));
            case "matches" -> list(value, entry -> object(entry, EGRESS_MATCH, PlainForm::text));
            default -> list(value, PlainForm::listText);
        });
    }

    private static ObjectNode routeGroupSpec(JsonNode spec) {
        return object(
                spec,
                ROUTE_GROUP_SPEC,
                (field, value) -> list(value, entry -> object(entry, HTTP_MATCH, PlainForm::httpMatchField)));
    }

    private static JsonNode portField(String field, JsonNode value) {
        // Integer: only a whole number that fits one binds as itself (a string or a fraction would be coerced).
        return field.equals("number") ? (value.isInt() ? value : null) : text(field, value);
    }

    private static JsonNode httpMatchField(String field, JsonNode value) {
        return switch (field) {
            case "methods" -> list(value, PlainForm::listText);
            // The mapping form only: the list form is merged by HttpHeadersDeserializer, which also refuses a
            // header given twice; an empty mapping is left out by the model, so it is left to the model.
            case "headers" -> isTextMap(value) ? value.deepCopy() : null;
            default -> text(field, value);
        };
    }

    /** How one field of an object is checked and copied: its plain value, or null when it is not plain. */
    private interface Field {
        JsonNode plain(String field, JsonNode value);
    }

    /** How one entry of a list is checked and copied: its plain value, or null when it is not plain. */
    private interface Entry {
        JsonNode plain(JsonNode value);
    }

    /** The object with {@code fields} in that order (an empty list left out), or null when one is not plain. */
    private static ObjectNode object(JsonNode node, List<String> fields, Field plain) {
        if (!hasOnly(node, fields)) {
            return null;
        }
        ObjectNode out = NODES.objectNode();
        for (String field : fields) {
            JsonNode value = node.get(field);
            if (value == null) {
                continue;
            }
            JsonNode copy = plain.plain(field, value);
            if (copy == null) {
                return null;
            }
            if (!(copy.isArray() && copy.isEmpty())) { // the model writes no empty list (NON_EMPTY)
                out.set(field, copy);
            }
        }
        return out;
    }

    private static ArrayNode list(JsonNode node, Entry plain) {
        if (node == null || !node.isArray()) {
            return null;
        }
        ArrayNode out = NODES.arrayNode(node.size());
        for (JsonNode entry : node) {
            JsonNode copy = plain.plain(entry);
            if (copy == null) {
                return null;
            }
            out.add(copy);
        }
        return out;
    }

    /** A string field: non-empty, because the model leaves an empty string out (NON_EMPTY). */
    private static JsonNode text(String field, JsonNode value) {
        return isText(value) ? value : null;
    }

    /** A string in a list of strings ({@code hosts}, {@code ipAddresses}, {@code methods}): written as it is. */
    private static JsonNode listText(JsonNode value) {
        return value.isTextual() ? value : null;
    }

    private static boolean isText(JsonNode value) {
        return value != null && value.isTextual() && !value.asText().isEmpty();
    }

    /** A non-empty mapping of strings to strings (labels, annotations, SMI headers). */
    private static boolean isTextMap(JsonNode value) {
        if (value == null || !value.isObject() || value.isEmpty()) {
            return false;
        }
        for (Map.Entry<String, JsonNode> entry : value.properties()) {
            if (!entry.getValue().isTextual()) {
                return false;
            }
        }
        return true;
    }

    /** An object with no field but {@code allowed} (and so none the strict model would refuse). */
    private static boolean hasOnly(JsonNode node, List<String> allowed) {
        if (node == null || !node.isObject()) {
            return false;
        }
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!allowed.contains(entry.getKey())) {
                return false;
            }
        }
        return true;
    }
}
