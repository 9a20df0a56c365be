package io.portcullis.validation;

import io.portcullis.crds.EgressMode;
import io.portcullis.input.ServiceAccountRef;
import java.util.List;
import java.util.Set;

/**
 * An Egress that passed validation, in normalised form.
 *
 * @param origin  the policy, named in everything the model and Envoy config derive from it
 * @param matches the HTTP route matches of every HTTPRouteGroup the policy names; empty means any request
 * @param mode    the Egress's {@code portcullis.io/egress-mode}: in audit, what strict mode would refuse on its
 *                ports is let through for its sources and logged {@code would_deny}
 */
public record EgressRule(
        PolicyOrigin origin,
        Set<ServiceAccountRef> sources,
        List<String> hosts,
        List<Cidr> ipRanges,
        List<PortRule> ports,
        List<HttpRequestMatch> matches,
        EgressMode mode) {

    public EgressRule {
        sources = Set.copyOf(sources);
        hosts = List.copyOf(hosts);
        ipRanges = List.copyOf(ipRanges);
        ports = List.copyOf(ports);
        matches = List.copyOf(matches);
        mode = mode == null ? EgressMode.ENFORCE : mode;
    }

    /** An enforced rule. */
    public EgressRule(
            PolicyOrigin origin,
            Set<ServiceAccountRef> sources,
            List<String> hosts,
            List<Cidr> ipRanges,
            List<PortRule> ports,
            List<HttpRequestMatch> matches) {
        this(origin, sources, hosts, ipRanges, ports, matches, EgressMode.ENFORCE);
    }

    public record PortRule(int number, EgressProtocol protocol) {}
}
