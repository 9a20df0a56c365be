package io.portcullis.crds;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@code headers} either as a mapping (SMI v1alpha4) or as a list of mappings (FSM/OSM CRD
 * schema and docs), merging list entries in order.
 */
final class HttpHeadersDeserializer extends StdDeserializer<Map<String, String>> {

    HttpHeadersDeserializer() {
        super(Map.class);
    }

    @Override
    public Map<String, String> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonNode node = ctxt.readTree(p);
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull() || node.isMissingNode()) {
            return out;
        }
        if (node.isObject()) {
            addAll(node, out, ctxt);
        } else if (node.isArray()) {
            for (JsonNode entry : node) {
                if (!entry.isObject()) {
                    return ctxt.reportInputMismatch(
                            this,
                            "headers must be a mapping of header name to value regex (e.g. user-agent: \".*curl.*\"),"
                                    + " or a list of such mappings; found a list entry that is %s",
                            describe(entry));
                }
                addAll(entry, out, ctxt);
            }
        } else {
            return ctxt.reportInputMismatch(
                    this,
                    "headers must be a mapping of header name to value regex (e.g. user-agent: \".*curl.*\");"
                            + " found %s",
                    describe(node));
        }
        return out;
    }

    private void addAll(JsonNode object, Map<String, String> out, DeserializationContext ctxt) throws IOException {
        var fields = object.properties().iterator();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            JsonNode v = f.getValue();
            if (!v.isValueNode() || v.isNull()) {
                ctxt.reportInputMismatch(
                        this,
                        "header '%s' must have a string value (a regular expression); found %s",
                        f.getKey(),
                        describe(v));
            }
            if (out.containsKey(f.getKey())) {
                ctxt.reportInputMismatch(this, "header '%s' is listed twice; give each header once", f.getKey());
            }
            out.put(f.getKey(), v.asText());
        }
    }

    static String describe(JsonNode n) {
        if (n == null || n.isNull()) {
            return "nothing (null)";
        }
        if (n.isObject()) {
            return "a mapping";
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isTextual()) {
            return "the string \"" + n.asText() + "\"";
        }
        return n.getNodeType().name().toLowerCase(Locale.ROOT) + " " + n;
    }
}
