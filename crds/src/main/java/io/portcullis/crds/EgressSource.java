package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.crd.generator.annotation.SchemaFrom;
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
        @Required
        @SchemaFrom(type = Kind.class)
        @JsonPropertyDescription("Kind of the source; FSM matches egress sources by ServiceAccount only.")
        String kind,

        @Required @JsonPropertyDescription("Name of the source.")
        String name,

        @Required @JsonPropertyDescription("Namespace of the source.")
        String namespace,

        @SchemaFrom(type = AnyObject.class)
        @PreserveUnknownFields
        @JsonPropertyDescription(
                "FSM egress mTLS settings (issuer, cert); accepted for compatibility, not used by Portcullis.")
        Map<String, Object> mtls) {

    public EgressSource {
        mtls = mtls == null ? null : Copies.extra(mtls);
    }

    public EgressSource(String kind, String name, String namespace) {
        this(kind, name, namespace, null);
    }

    /**
     * The source kinds FSM matches egress policies by ({@code kindSvcAccount} in FSM's policy client), as the
     * CRD schema's enum; the field stays a String for the same reason as {@link EgressPort.Protocol}.
     */
    enum Kind {
        ServiceAccount
    }

    /**
     * Schema of {@code mtls}: an object whose content the API server keeps as written. FSM writes {@code
     * issuer} as a string and {@code cert} as an object; typing it as a map of objects made the real API
     * server refuse FSM's manifests.
     */
    static final class AnyObject {
        private AnyObject() {}
    }
}
