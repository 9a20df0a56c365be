package io.portcullis.crds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Turns a parsed object tree into a typed resource, explaining failures field by field. */
final class Conversion {
    private Conversion() {}

    /** A tree that cannot become the typed resource; each message names a field and the fix. */
    static final class InvalidResourceException extends Exception {
        private final List<String> messages;

        InvalidResourceException(List<String> messages, Throwable cause) {
            super(String.join("; ", messages), cause);
            this.messages = List.copyOf(messages);
        }

        List<String> messages() {
            return messages;
        }
    }

    /** At most this many unknown fields are reported for one document. */
    private static final int MAX_UNKNOWN_FIELDS = 20;

    static <T extends HasMetadata> T toResource(JsonNode tree, Class<T> type) throws InvalidResourceException {
        KnownKind known = KnownKind.byType(type).orElse(null);
        ObjectMapper mapper = known != null && known.strictFields() ? Yaml.STRICT : Yaml.LENIENT;
        JsonNode input = tree.deepCopy();
        if (input instanceof ObjectNode object) {
            // status is written by a server (e.g. `kubectl get -o yaml` output); we model none.
            object.remove("status");
        }
        List<String> messages = new ArrayList<>();
        JsonMappingException first = null;
        while (true) {
            try {
                T value = mapper.treeToValue(input, type);
                if (messages.isEmpty()) {
                    return value;
                }
                break;
            } catch (UnrecognizedPropertyException e) {
                first = first == null ? e : first;
                messages.add(explain(e, input));
                // drop the unknown field and go on, so that every unknown field is reported at once
                if (!remove(input, e.getPath()) || messages.size() >= MAX_UNKNOWN_FIELDS) {
                    break;
                }
            } catch (JsonMappingException e) {
                first = first == null ? e : first;
                messages.add(explain(e, input));
                break;
            } catch (IllegalArgumentException | JsonProcessingException e) {
                messages.add(String.valueOf(e.getMessage()));
                break;
            }
        }
        throw new InvalidResourceException(messages, first);
    }

    private static boolean remove(JsonNode root, List<JsonMappingException.Reference> refs) {
        if (refs.isEmpty()) {
            return false;
        }
        JsonNode parent = at(root, refs.subList(0, refs.size() - 1));
        String field = refs.get(refs.size() - 1).getFieldName();
        if (parent instanceof ObjectNode object && field != null && object.has(field)) {
            object.remove(field);
            return true;
        }
        return false;
    }

    static String explain(JsonMappingException e, JsonNode input) {
        String path = path(e.getPath());
        if (e instanceof UnrecognizedPropertyException u) {
            String field = String.valueOf(u.getPropertyName());
            Collection<Object> known = u.getKnownPropertyIds();
            List<String> allowed = known == null
                    ? List.of()
                    : known.stream().map(String::valueOf).sorted().toList();
            String suggestion = closest(field, allowed);
            String parent = path.contains(".") || path.contains("[")
                    ? path.substring(0, Math.max(path.lastIndexOf('.'), 0))
                    : "";
            StringBuilder sb = new StringBuilder("unknown field ").append(path);
            if (suggestion != null) {
                sb.append(": did you mean '").append(suggestion).append("'?");
            } else {
                sb.append(": remove it");
            }
            if (!allowed.isEmpty()) {
                sb.append(" Allowed fields")
                        .append(parent.isEmpty() ? " at the top level" : " in " + parent)
                        .append(": ")
                        .append(String.join(", ", allowed))
                        .append('.');
            }
            sb.append(" Unknown fields are rejected so that a misspelt field cannot silently widen a" + " policy.");
            return sb.toString();
        }
        if (e instanceof ValueInstantiationException && e.getCause() != null) {
            String msg = e.getCause().getMessage();
            return path.isEmpty() ? msg : path + "." + msg;
        }
        if (e instanceof MismatchedInputException m && !(e instanceof InvalidDefinitionException)) {
            String original = m.getOriginalMessage();
            if (original != null && !original.startsWith("Cannot ") && !original.startsWith("Unexpected")) {
                // a message written by one of our deserializers
                return (path.isEmpty() ? "" : path + ": ") + original;
            }
            JsonNode found = at(input, e.getPath());
            return (path.isEmpty() ? "the document" : path)
                    + " has the wrong type: expected "
                    + expected(m.getTargetType())
                    + " but found "
                    + HttpHeadersDeserializer.describe(found)
                    + "; change the value to "
                    + expected(m.getTargetType());
        }
        String original = e.getOriginalMessage();
        return (path.isEmpty() ? "" : path + ": ") + (original == null ? e.toString() : original);
    }

    static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static JsonNode at(JsonNode root, List<JsonMappingException.Reference> refs) {
        JsonNode n = root;
        for (JsonMappingException.Reference r : refs) {
            if (n == null) {
                return null;
            }
            n = r.getFieldName() != null ? n.get(r.getFieldName()) : n.get(r.getIndex());
        }
        return n;
    }

    private static String expected(Class<?> t) {
        if (t == null) {
            return "a different value";
        }
        if (t == Integer.class
                || t == int.class
                || t == Long.class
                || t == long.class
                || t == Short.class
                || t == short.class) {
            return "a whole number";
        }
        if (t == Boolean.class || t == boolean.class) {
            return "true or false";
        }
        if (t == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(t) || t.isArray()) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(t) || t.isRecord() || !t.getName().startsWith("java.")) {
            return "a mapping (key: value pairs)";
        }
        return "a " + t.getSimpleName();
    }

    /** The allowed name closest to {@code field} (same letters ignoring case, or 2 edits away). */
    static String closest(String field, Collection<String> allowed) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String a : allowed) {
            int d = a.equalsIgnoreCase(field)
                    ? 0
                    : distance(a.toLowerCase(Locale.ROOT), field.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = a;
            }
        }
        int limit = field.length() <= 4 ? 1 : 2;
        return bestDistance <= limit ? best : null;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
