package io.portcullis.validation;

import io.portcullis.input.ServiceAccountRef;
import java.util.List;
import java.util.Set;

/**
 * An Egress that passed validation, in normalised form.
 *
 * @param origin  the policy, named in everything the model and Envoy config derive from it
 * @param matches the HTTP route matches of every HTTPRouteGroup the policy names; empty means any request
 */
public record EgressRule(
        PolicyOrigin origin,
        Set<ServiceAccountRef> sources,
        List<String> hosts,
        List<Cidr> ipRanges,
        List<PortRule> ports,
        List<HttpRequestMatch> matches) {

    public EgressRule {
        sources = Set.copyOf(sources);
        hosts = List.copyOf(hosts);
        ipRanges = List.copyOf(ipRanges);
        ports = List.copyOf(ports);
        matches = List.copyOf(matches);
    }

    public record PortRule(int number, EgressProtocol protocol) {}
}
