package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * A destination port and the protocol served on it ({@code http}, {@code https}, {@code tcp},
 * {@code tcp-server-first} in FSM). Values are kept raw: unknown protocols are not rejected here, but
 * by the API server (the CRD's enum, {@link Protocol}) and by the translator (for manifests read from a
 * directory), each naming the field.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"number", "protocol"})
public record EgressPort(
        @Required @Min(1) @Max(65535) @JsonPropertyDescription("Destination port number.")
        Integer number,

        @Required
        @SchemaFrom(type = Protocol.class)
        @JsonPropertyDescription("Protocol served by the port: http, https, tcp or tcp-server-first.")
        String protocol) {

    /**
     * The protocols FSM serves on an egress port, as the CRD schema's enum. Only the schema uses it: the field
     * stays a String so that the directory source reads any value and the translator reports it with the
     * field path and the allowed values, instead of a Jackson enum error.
     */
    enum Protocol {
        @JsonProperty("http")
        HTTP,
        @JsonProperty("https")
        HTTPS,
        @JsonProperty("tcp")
        TCP,
        @JsonProperty("tcp-server-first")
        TCP_SERVER_FIRST
    }
}
