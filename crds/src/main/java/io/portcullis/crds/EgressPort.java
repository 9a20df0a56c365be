package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * A destination port and the protocol served on it ({@code http}, {@code https}, {@code tcp},
 * {@code tcp-server-first} in FSM). Values are kept raw: unknown protocols are not rejected here.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"number", "protocol"})
public record EgressPort(
        @Required @Min(1) @Max(65535) @JsonPropertyDescription("Destination port number.")
        Integer number,

        @Required @JsonPropertyDescription("Protocol served by the port: http, https, tcp or tcp-server-first.")
        String protocol) {}
