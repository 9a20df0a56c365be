package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * Spec of an {@link Egress}. Null lists become {@code List.of()}; all lists are immutable copies.
 * Values are kept raw (no protocol / CIDR validation here).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"sources", "hosts", "ipAddresses", "ports", "matches"})
public record EgressSpec(
        // at least one: a policy for nobody is a mistake, never an intent (the translator refuses it too)
        @Required @Size(min = 1) @JsonPropertyDescription("Sources (e.g. ServiceAccounts) the policy applies to.")
        List<EgressSource> sources,

        @JsonPropertyDescription(
                "External hosts allowed: matched against the HTTP Host/authority header for HTTP and the"
                        + " TLS SNI for HTTPS; ignored for other protocols.")
        List<String> hosts,

        @JsonPropertyDescription("External destination IP ranges (CIDR) allowed.")
        List<String> ipAddresses,

        @Required
        @Size(min = 1)
        @JsonPropertyDescription("Destination ports (number and protocol) the policy applies to.")
        List<EgressPort> ports,

        @JsonPropertyDescription("References to SMI HTTPRouteGroups for finer-grained HTTP matching.")
        List<EgressMatch> matches) {

    public EgressSpec {
        sources = Copies.list(sources, "sources");
        hosts = Copies.list(hosts, "hosts");
        ipAddresses = Copies.list(ipAddresses, "ipAddresses");
        ports = Copies.list(ports, "ports");
        matches = Copies.list(matches, "matches");
    }
}
