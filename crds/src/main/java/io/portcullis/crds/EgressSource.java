package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Required;
import java.util.Map;

/**
 * A source of egress traffic, e.g. {@code kind: ServiceAccount, name: curl, namespace: curl}.
 *
 * @param mtls FSM's egress-gateway client certificate settings ({@code issuer}, {@code cert}); read so
 *             that FSM manifests load unchanged, kept as written, not used for access decisions
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"kind", "name", "namespace", "mtls"})
public record EgressSource(
        @Required @JsonPropertyDescription("Kind of the source, e.g. ServiceAccount.")
        String kind,

        @Required @JsonPropertyDescription("Name of the source.")
        String name,

        @Required @JsonPropertyDescription("Namespace of the source.")
        String namespace,

        @JsonPropertyDescription(
                "FSM egress mTLS settings (issuer, cert); accepted for compatibility, not used by Portcullis.")
        Map<String, Object> mtls) {

    public EgressSource {
        mtls = mtls == null ? null : Copies.extra(mtls);
    }

    public EgressSource(String kind, String name, String namespace) {
        this(kind, name, namespace, null);
    }
}
