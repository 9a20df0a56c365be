package io.portcullis.ir;

import io.portcullis.crds.EgressMode;
import io.portcullis.crds.EgressSettings;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.Cidr;
import io.portcullis.validation.EgressProtocol;
import io.portcullis.validation.EgressRule;
import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.validation.ValidatedPolicies;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Merges the validated policies naming one identity into its {@link SidecarEgressModel}. Merging is a
 * union: any number of policies on the same port, host or protocol combine into one plan per port.
 */
public final class SidecarModelBuilder {

    public SidecarEgressModel build(ValidatedPolicies policies, ServiceAccountRef identity) {
        EgressSettings mesh = policies.mesh();
        if (mesh.passthrough()) {
            return new SidecarEgressModel.Passthrough(identity);
        }
        boolean namespaceAudited = policies.audited(identity);
        if (!mesh.policyEnforced()) {
            return new SidecarEgressModel.DenyAll(identity, namespaceAudited);
        }
        Map<Integer, PortAccumulator> byPort = new TreeMap<>();
        for (EgressRule rule : policies.rulesFor(identity)) {
            for (EgressRule.PortRule port : rule.ports()) {
                byPort.computeIfAbsent(port.number(), PortAccumulator::new).add(rule, port.protocol());
            }
        }
        List<PolicyProblem> conflicts = new ArrayList<>();
        List<PortPlan> plans = byPort.values().stream()
                .map(acc -> acc.toPlan(identity, conflicts, namespaceAudited))
                .toList();
        return new SidecarEgressModel.PolicyEnforced(identity, plans, conflicts, namespaceAudited);
    }

    /** Collects one port's contributions before they are merged. */
    private static final class PortAccumulator {
        private final int port;
        private boolean serverFirst;
        private boolean tcpAnyAddress;
        private final Set<Cidr> tcpRanges = new TreeSet<>();
        private final Set<PolicyOrigin> tcpOrigins = new TreeSet<>();
        private final Set<PolicyOrigin> tcpAnyAddressOrigins = new TreeSet<>();
        private final Map<Cidr, java.util.SortedSet<PolicyOrigin>> tcpRangeOrigins = new TreeMap<>();
        private final Map<String, Set<PolicyOrigin>> tlsHostOrigins = new TreeMap<>();
        private boolean audit;
        private final Map<String, HostAccumulator> httpHosts = new TreeMap<>();
        private final Set<String> tlsHosts = new TreeSet<>();
        private final Set<PolicyOrigin> tlsOrigins = new TreeSet<>();
        private final List<EgressRule> tlsRules = new ArrayList<>();
        private final List<EgressRule> restrictedHttpRules = new ArrayList<>();

        PortAccumulator(int port) {
            this.port = port;
        }

        void add(EgressRule rule, EgressProtocol protocol) {
            PolicyOrigin origin = rule.origin();
            audit |= rule.mode() == EgressMode.AUDIT;
            switch (protocol) {
                case TCP, TCP_SERVER_FIRST -> {
                    serverFirst |= protocol == EgressProtocol.TCP_SERVER_FIRST;
                    tcpOrigins.add(origin);
                    if (rule.ipRanges().isEmpty()) {
                        tcpAnyAddress = true;
                        tcpAnyAddressOrigins.add(origin);
                    } else {
                        tcpRanges.addAll(rule.ipRanges());
                        rule.ipRanges()
                                .forEach(range -> tcpRangeOrigins
                                        .computeIfAbsent(range, r -> new TreeSet<>())
                                        .add(origin));
                    }
                }
                case HTTP -> {
                    rule.hosts()
                            .forEach(host -> httpHosts
                                    .computeIfAbsent(host, h -> new HostAccumulator())
                                    .add(origin, rule.matches()));
                    if (!rule.matches().isEmpty()) {
                        restrictedHttpRules.add(rule);
                    }
                }
                case HTTPS -> {
                    tlsHosts.addAll(rule.hosts());
                    rule.hosts()
                            .forEach(host -> tlsHostOrigins
                                    .computeIfAbsent(host, h -> new TreeSet<>())
                                    .add(origin));
                    tlsOrigins.add(origin);
                    tlsRules.add(rule);
                }
            }
        }

        PortPlan toPlan(ServiceAccountRef identity, List<PolicyProblem> conflicts, boolean namespaceAudited) {
            boolean portAudited = audit || namespaceAudited;
            Optional<TcpAccess> tcp = tcpOrigins.isEmpty()
                    ? Optional.empty()
                    : Optional.of(
                            tcpAnyAddress
                                    ? new TcpAccess(true, List.of(), tcpAnyAddressOrigins)
                                    : new TcpAccess(false, List.copyOf(tcpRanges), tcpOrigins, rangeDeciders()));
            if (tcpAnyAddress) {
                // Any address on this port is allowed as raw TCP, which already covers every HTTP and
                // TLS host on it; host rules would only add a filter chain with the same match. Route
                // matches are then moot: say so, since whoever wrote them expects a 403 elsewhere.
                for (EgressRule rule : restrictedHttpRules) {
                    conflicts.add(
                            PolicyProblem.warning(
                                    PolicyProblem.Cause.PORT_CONFLICT,
                                    rule.origin().resource(),
                                    "spec.matches",
                                    "have no effect on port " + port + " for " + identity + ": "
                                            + names(tcpOrigins)
                                            + " allows any TCP connection on that port, so every request to "
                                            + rule.hosts()
                                            + " passes; give the tcp policy ipAddresses or another port to keep the route matches"));
                }
                return new PortPlan(port, serverFirst, tcp, List.of(), Optional.empty(), portAudited);
            }
            Optional<TlsAccess> tls = tlsHosts.isEmpty()
                    ? Optional.empty()
                    : Optional.of(new TlsAccess(List.copyOf(tlsHosts), tlsOrigins, hostDeciders()));
            if (serverFirst && tls.isPresent()) {
                for (EgressRule rule : tlsRules) {
                    conflicts.add(PolicyProblem.warning(
                            PolicyProblem.Cause.PORT_CONFLICT,
                            rule.origin().resource(),
                            "spec.ports",
                            "port " + port + " is tcp-server-first in " + names(tcpOrigins)
                                    + " for " + identity + ", so the TLS SNI cannot be read there and https hosts "
                                    + rule.hosts()
                                    + " are not reachable on it; use another port for server-first protocols"));
                }
                tls = Optional.empty();
            }
            List<HttpHostAccess> http = httpHosts.entrySet().stream()
                    .map(e -> e.getValue().toAccess(e.getKey()))
                    .toList();
            return new PortPlan(port, serverFirst, tcp, http, tls, portAudited);
        }

        /** Envoy takes the most specific range, so a range is decided by the first policy with a range containing it. */
        private java.util.SortedMap<Cidr, PolicyOrigin> rangeDeciders() {
            List<Cidr> ranges = List.copyOf(tcpRangeOrigins.keySet());
            List<Cidr.Bits> bits = ranges.stream().map(Cidr::bits).toList();
            java.util.SortedMap<Cidr, PolicyOrigin> deciders = new TreeMap<>();
            for (int inner = 0; inner < ranges.size(); inner++) {
                PolicyOrigin first = null;
                for (int outer = 0; outer < ranges.size(); outer++) {
                    if (bits.get(outer).contains(bits.get(inner))) {
                        PolicyOrigin candidate =
                                tcpRangeOrigins.get(ranges.get(outer)).first();
                        if (first == null || candidate.compareTo(first) < 0) {
                            first = candidate;
                        }
                    }
                }
                deciders.put(ranges.get(inner), first);
            }
            return deciders;
        }

        /** Envoy prefers an exact server name to a wildcard, so a wildcard policy also grants the names it covers. */
        private java.util.SortedMap<String, PolicyOrigin> hostDeciders() {
            java.util.SortedMap<String, PolicyOrigin> deciders = new TreeMap<>();
            for (String host : tlsHosts) {
                Set<PolicyOrigin> granting = new TreeSet<>();
                tlsHostOrigins.forEach((other, origins) -> {
                    if (other.equals(host) || (other.startsWith("*.") && host.endsWith(other.substring(1)))) {
                        granting.addAll(origins);
                    }
                });
                deciders.put(host, granting.iterator().next());
            }
            return deciders;
        }
    }

    private static String names(Set<PolicyOrigin> origins) {
        return String.join(", ", origins.stream().map(PolicyOrigin::toString).toList());
    }

    /** One HTTP host's contributions: allowed outright by any policy without matches, else the union. */
    private static final class HostAccumulator {
        private boolean anyRequest;
        private final List<HttpRequestMatch> matches = new ArrayList<>();
        private final Set<PolicyOrigin> origins = new TreeSet<>();
        private final Set<PolicyOrigin> anyRequestOrigins = new TreeSet<>();
        private final Map<HttpRequestMatch, Set<PolicyOrigin>> matchOrigins = new java.util.HashMap<>();

        void add(PolicyOrigin origin, List<HttpRequestMatch> policyMatches) {
            origins.add(origin);
            if (policyMatches.isEmpty()) {
                anyRequest = true;
                anyRequestOrigins.add(origin);
            }
            policyMatches.stream().filter(m -> !matches.contains(m)).forEach(matches::add);
            policyMatches.forEach(
                    m -> matchOrigins.computeIfAbsent(m, k -> new TreeSet<>()).add(origin));
        }

        HttpHostAccess toAccess(String host) {
            // Without a policy allowing any request, every policy of the host restricts it; the first
            // decides a request no match accepts.
            PolicyOrigin decidedBy =
                    (anyRequest ? anyRequestOrigins : origins).iterator().next();
            Map<HttpRequestMatch, PolicyOrigin> matchPolicies = new java.util.LinkedHashMap<>();
            matches.forEach(
                    m -> matchPolicies.put(m, matchOrigins.get(m).iterator().next()));
            return new HttpHostAccess(host, anyRequest, matches, origins, decidedBy, matchPolicies);
        }
    }
}
