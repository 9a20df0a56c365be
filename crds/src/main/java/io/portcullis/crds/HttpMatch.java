package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Required;
import java.util.List;
import java.util.Map;

/**
 * One SMI HTTP match. {@code methods} are kept raw ({@code *} means all). {@code headers} maps a
 * header name to a value regex; insertion order is kept (unmodifiable {@link
 * java.util.LinkedHashMap} copy). Null lists/maps become empty.
 *
 * <p>Headers are read both in the SMI v1alpha4 form (a mapping) and in the form FSM's/OSM's CRD
 * and docs use (a list of single-entry mappings, {@code - user-agent: ".*"}); they are always
 * written back as a mapping.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"name", "pathRegex", "methods", "headers"})
public record HttpMatch(
        @Required @JsonPropertyDescription("Name of the match, referenced by policies.")
        String name,

        @JsonPropertyDescription("Regular expression the request path must match.")
        String pathRegex,

        @SchemaFrom(type = Method[].class) @JsonPropertyDescription("HTTP methods (RFC 7231) matched; '*' matches all.")
        List<String> methods,

        // Either form is stored as written: a structural schema has no "mapping or list" type, and a CEL rule
        // cannot see into an untyped node, so the shape is checked where it is read (HttpHeadersDeserializer, with
        // the field's path), and refused by the validating webhook.
        @SchemaFrom(type = JsonNode.class)
        @PreserveUnknownFields
        @JsonPropertyDescription("Header name to value regular expression, all must match: a mapping (SMI v1alpha4)"
                + " or a list of single-entry mappings (FSM).")
        @JsonDeserialize(using = HttpHeadersDeserializer.class)
        Map<String, String> headers) {

    public HttpMatch {
        methods = Copies.list(methods, "methods");
        headers = Copies.orderedMap(headers, "headers");
    }

    /**
     * The methods SMI's (and FSM's) HTTPRouteGroup CRD admits, as the CRD schema's enum. The field stays a list
     * of Strings so that the directory source reads any value and the translator reports it with its path.
     */
    enum Method {
        @JsonProperty("*")
        ANY,
        GET,
        HEAD,
        PUT,
        POST,
        DELETE,
        CONNECT,
        OPTIONS,
        TRACE,
        PATCH
    }
}
