package io.portcullis.explain;

import com.google.re2j.Pattern;
import io.portcullis.envoy.EgressNames;
import io.portcullis.explain.Explanation.Allowed;
import io.portcullis.explain.Explanation.Aspect;
import io.portcullis.explain.Explanation.Closest;
import io.portcullis.explain.Explanation.Denied;
import io.portcullis.explain.Explanation.Difference;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.ir.TcpAccess;
import io.portcullis.validation.Cidr;
import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import java.math.BigInteger;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Decides what an identity's sidecar does with a request, from the same {@link SidecarEgressModel} its
 * Envoy config is rendered from, by walking the steps Envoy takes on that config
 * ({@code OutboundListenerBuilder}, {@code HttpRouteConfigBuilder}): the filter chain by destination port,
 * then the most specific IP prefix, then the TLS SNI (exact, then {@code *.suffix}); on an HTTP chain the
 * virtual host by Host header (exact domain, then the longest wildcard), then the first route whose path
 * regex (full match on the normalised path without query), exact {@code :method} and header regexes all
 * match. When it is denied, it also finds the grant of the model that comes closest and says what differs.
 *
 * <p>Pure: no I/O, no DNS. A host name is never resolved (the pod's DNS may answer differently).
 */
public final class EgressExplainer {

    static final String DENY_HOST_ROUTE = "deny_host_not_allowed";
    static final String DENY_NO_ROUTE_MATCH = "deny_no_route_match";

    public Explanation explain(SidecarEgressModel model, EgressRequest request) {
        ServiceAccountRef identity = model.identity();
        if (request.ipv6()) {
            return new Denied(
                    identity,
                    request,
                    "the pod's firewall refuses the workload's IPv6 TCP (ip6tables): the sidecar's redirect is IPv4 only",
                    "none (refused by ip6tables)",
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    List.of());
        }
        return switch (model) {
            case SidecarEgressModel.Passthrough passthrough ->
                new Allowed(
                        identity,
                        request,
                        List.of(),
                        Optional.empty(),
                        EgressNames.PASSTHROUGH_CHAIN,
                        Optional.empty(),
                        "MeshConfig spec.traffic.enableEgress is true: every outside destination is reachable"
                                + " (global passthrough, no policy needed)",
                        List.of());
            case SidecarEgressModel.DenyAll denyAll -> {
                Denied denial = new Denied(
                        identity,
                        request,
                        "nothing outside the mesh is reachable for " + identity
                                + ": MeshConfig has spec.featureFlags.enableEgressPolicy and spec.traffic.enableEgress"
                                + " both off, or the control plane locked the identity down after its sidecars rejected"
                                + " a config (see /debug/problems)",
                        EgressNames.DENY_CHAIN,
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        List.of());
                yield denyAll.audit() ? denial.inAudit(EgressNames.DENY_CHAIN) : denial;
            }
            case SidecarEgressModel.PolicyEnforced enforced -> new Evaluation(enforced, request).run();
        };
    }

    /** One request against one policy-enforced model; collects notes on the way. */
    private static final class Evaluation {
        private final SidecarEgressModel.PolicyEnforced model;
        private final EgressRequest request;
        private final List<String> notes = new ArrayList<>();

        Evaluation(SidecarEgressModel.PolicyEnforced model, EgressRequest request) {
            this.model = model;
            this.request = request;
        }

        Explanation run() {
            int port = request.port();
            Optional<PortPlan> found =
                    model.ports().stream().filter(p -> p.port() == port).findFirst();
            if (found.isEmpty()) {
                return unmatched(
                        Optional.empty(),
                        model.ports().isEmpty()
                                ? "no Egress policy names " + model.identity() + " as a source"
                                : "no Egress policy of " + model.identity() + " allows port " + port);
            }
            PortPlan plan = found.get();
            if (plan.serverFirst()) {
                notes.add("port " + port + " is server-first (tcp-server-first): the sidecar does not wait for the"
                        + " client's first bytes there, so it reads no SNI on it");
            }
            // Step 1 after the port: the most specific destination IP prefix. Chains without prefix ranges
            // (TLS, HTTP, TCP to any address) count as 0.0.0.0/0, so a TCP range wins inside it.
            Optional<TcpAccess> tcp = plan.tcp();
            if (tcp.isPresent() && tcp.get().anyAddress()) {
                PolicyOrigin decider = tcp.get().anyAddressPolicy();
                return allowed(
                        tcp.get().origins(),
                        decider,
                        EgressNames.tcpChain(port, tcp.get(), decider),
                        Optional.empty(),
                        "port " + port + " allows TCP to any address");
            }
            if (tcp.isPresent()) {
                List<Cidr> ranges = tcp.get().ranges();
                if (request.address().isPresent()) {
                    Optional<Cidr> range =
                            mostSpecific(ranges, request.address().get());
                    if (range.isPresent()) {
                        // Envoy takes the chain holding the most specific range: the one of its deciding policy.
                        PolicyOrigin decider = tcp.get().decidedBy().get(range.get());
                        return allowed(
                                tcp.get().origins(),
                                decider,
                                EgressNames.tcpChain(port, tcp.get(), decider),
                                Optional.empty(),
                                "destination " + request.address().get().getHostAddress() + " is in " + range.get()
                                        + ", an IP range of the TCP policies on port " + port);
                    }
                } else if (request instanceof EgressRequest.Tcp) {
                    return new Explanation.AddressNeeded(
                            model.identity(),
                            request,
                            "the TCP policies on port " + port + " match IP ranges " + ranges + ", and "
                                    + request.host() + " is a name: give the address the workload dials"
                                    + " (--ip ADDRESS, or ADDRESS:" + port + ")",
                            notes);
                } else {
                    notes.add(request.host() + " is not resolved: if it resolves into " + ranges + " in the pod, a"
                            + " TCP chain of port " + port + " ("
                            + names(tcp.get().origins()) + ") takes the"
                            + " connection and allows it; this verdict assumes an address outside them (--ip decides)");
                }
            }
            boolean hasHttpChain = !plan.httpHosts().isEmpty();
            if (plan.tls().isEmpty() && !hasHttpChain) {
                return unmatched(
                        Optional.of(plan),
                        "destination " + addressText() + " is not in the IP ranges "
                                + tcp.map(TcpAccess::ranges).orElse(List.of()) + " of the TCP policies on port "
                                + port);
            }
            // Step 2: the SNI, read only on ports with a TLS chain (the TLS inspector is off elsewhere).
            Optional<String> sni =
                    request instanceof EgressRequest.Tls tls && plan.tls().isPresent() ? tls.sni() : Optional.empty();
            if (sni.isPresent()) {
                Optional<String> name = ServerNames.match(plan.tls().get().serverNames(), sni.get());
                if (name.isPresent()) {
                    PolicyOrigin decider = plan.tls().get().decidedBy().get(name.get());
                    return allowed(
                            plan.tls().get().origins(),
                            decider,
                            EgressNames.tlsChain(port, plan.tls().get(), decider),
                            Optional.empty(),
                            "SNI " + sni.get() + " matches server name " + name.get() + " on port " + port);
                }
            }
            // Step 3: the chain without server names, the HTTP one, takes everything else on the port.
            if (hasHttpChain) {
                if (!(request instanceof EgressRequest.Http) && (plan.audit() || model.audit())) {
                    notes.add("audit mode does not let it through: the port's HTTP chain takes it and can forward"
                            + " only HTTP requests");
                }
                return switch (request) {
                    case EgressRequest.Http http -> route(plan, http);
                    case EgressRequest.Tls tls ->
                        denied(
                                "the TLS connection's " + sniText(tls) + " matches no https policy on port " + port
                                        + ", so the port's HTTP chain takes it; that chain speaks plain HTTP and closes"
                                        + " the connection",
                                EgressNames.httpChain(port),
                                Optional.empty(),
                                Optional.empty());
                    case EgressRequest.Tcp raw ->
                        denied(
                                "raw TCP on port " + port + " goes to the port's HTTP chain (its policies are http):"
                                        + " only HTTP requests to allowed hosts pass",
                                EgressNames.httpChain(port),
                                Optional.empty(),
                                Optional.empty());
                };
            }
            List<String> serverNames = plan.tls().get().serverNames();
            String reason = switch (request) {
                case EgressRequest.Tls tls ->
                    tls.sni().isEmpty()
                            ? "the TLS connection sends no SNI (curl sends none to an IP literal; --sni sets"
                                    + " one), and port " + port + " allows TLS only by SNI " + serverNames
                            : "SNI " + tls.sni().get() + " is not among the server names allowed on port " + port + ": "
                                    + serverNames;
                case EgressRequest.Http http ->
                    "port " + port + " allows TLS only, by SNI " + serverNames + "; a plain HTTP request has no SNI";
                case EgressRequest.Tcp raw ->
                    "port " + port + " allows TLS only, by SNI " + serverNames + "; raw TCP has no SNI";
            };
            return unmatched(Optional.of(plan), reason);
        }

        private Explanation route(PortPlan plan, EgressRequest.Http http) {
            int port = plan.port();
            Optional<VirtualHosts.Selected> selected = VirtualHosts.select(plan, http.authority());
            if (selected.isEmpty()) {
                return routeRefusal(
                        plan,
                        "Host " + http.authority() + " is not an allowed host on port " + port + " (allowed: "
                                + plan.httpHosts().stream()
                                        .flatMap(h -> VirtualHosts.domains(h, port).stream())
                                        .toList()
                                + ")",
                        DENY_HOST_ROUTE,
                        Optional.empty());
            }
            HttpHostAccess host = selected.get().host();
            String hostMatch =
                    "Host " + http.authority() + " matches " + selected.get().domain() + " on port " + port;
            if (host.anyRequest()) {
                return allowed(
                        host.origins(),
                        host.decidedBy(),
                        EgressNames.httpChain(port),
                        Optional.of(EgressNames.allowHostRoute(host.origins())),
                        hostMatch + "; any request to it is allowed");
            }
            String path = RequestPath.normalize(http.pathAndQuery());
            for (HttpRequestMatch match : host.matches()) {
                if (routeDifferences(match, http, path).isEmpty()) {
                    String route = match.methods().isEmpty()
                            ? EgressNames.matchRoute(match.origin())
                            : EgressNames.matchRoute(match.origin(), http.method());
                    return allowed(
                            host.origins(),
                            host.matchPolicies().get(match),
                            EgressNames.httpChain(port),
                            Optional.of(route),
                            hostMatch + "; " + describe(match) + " matches " + http.method() + " " + path);
                }
            }
            // The host's deciding policy decides what none of its matches accepts (the log's policy field).
            return routeRefusal(
                    plan,
                    http.method() + " " + path + " matches no HTTPRouteGroup match allowed for " + host.host()
                            + " on port " + port,
                    DENY_NO_ROUTE_MATCH,
                    Optional.of(host.decidedBy()));
        }

        private Explanation allowed(
                Set<PolicyOrigin> origins, PolicyOrigin decider, String chain, Optional<String> route, String match) {
            return new Allowed(
                    model.identity(), request, List.copyOf(origins), Optional.of(decider), chain, route, match, notes);
        }

        private Denied denied(String reason, String chain, Optional<String> route, Optional<PolicyOrigin> decider) {
            return new Denied(model.identity(), request, reason, chain, route, decider, closest(), notes);
        }

        /**
         * What no chain of the port takes lands on the listener's default chain {@code deny}. In audit it is let
         * through: by that same chain when the namespace is in audit, else by the port's {@code audit_<port>}
         * chain when an Egress in audit names the port ({@code plan}).
         */
        private Explanation unmatched(Optional<PortPlan> plan, String reason) {
            Denied denial = denied(reason, EgressNames.DENY_CHAIN, Optional.empty(), Optional.empty());
            if (model.audit()) {
                return denial.inAudit(EgressNames.DENY_CHAIN);
            }
            if (plan.isPresent() && plan.get().audit()) {
                return denial.inAudit(EgressNames.auditChain(plan.get().port()));
            }
            return denial;
        }

        /** A deny route of the port's HTTP chain: 403, or in audit forwarded to the address dialled. */
        private Explanation routeRefusal(PortPlan plan, String reason, String route, Optional<PolicyOrigin> decider) {
            String chain = EgressNames.httpChain(plan.port());
            if (plan.audit()) {
                return denied(reason, chain, Optional.of(route), decider).inAudit(chain);
            }
            return denied(reason + "; the sidecar answers 403", chain, Optional.of(route), decider);
        }

        private String addressText() {
            return request.address()
                    .map(InetAddress::getHostAddress)
                    .orElse(request.host() + " (not resolved; --ip gives the address)");
        }

        /** The grant with the fewest differences; on a tie, one on the request's port, then model order. */
        private Optional<Closest> closest() {
            List<Closest> candidates = new ArrayList<>();
            for (PortPlan plan : model.ports()) {
                plan.tcp().ifPresent(tcp -> candidates.add(tcpGrant(plan, tcp)));
                plan.tls()
                        .ifPresent(tls -> candidates.add(new Closest(
                                "https SNI " + tls.serverNames() + " on port " + plan.port(),
                                List.copyOf(tls.origins()),
                                tlsDifferences(plan, tls.serverNames()))));
                for (HttpHostAccess host : plan.httpHosts()) {
                    candidates.add(new Closest(
                            "http host " + host.host() + " on port " + plan.port(),
                            List.copyOf(host.origins()),
                            httpDifferences(plan, host)));
                }
            }
            return candidates.stream()
                    .min(Comparator.comparingInt((Closest c) -> c.differences().size())
                            .thenComparingInt(
                                    c -> c.differences().stream().anyMatch(d -> d.aspect() == Aspect.PORT) ? 1 : 0));
        }

        private Closest tcpGrant(PortPlan plan, TcpAccess tcp) {
            List<Difference> differences = new ArrayList<>(portDifference(plan));
            boolean inRange = tcp.anyAddress()
                    || request.address()
                            .flatMap(a -> mostSpecific(tcp.ranges(), a))
                            .isPresent();
            if (!inRange) {
                differences.add(new Difference(Aspect.ADDRESS, String.join(", ", names(tcp.ranges())), addressText()));
            }
            return new Closest(
                    "tcp to " + (tcp.anyAddress() ? "any address" : tcp.ranges().toString()) + " on port "
                            + plan.port(),
                    List.copyOf(tcp.origins()),
                    differences);
        }

        private List<Difference> tlsDifferences(PortPlan plan, List<String> serverNames) {
            List<Difference> differences = new ArrayList<>(portDifference(plan));
            if (request instanceof EgressRequest.Tls tls) {
                if (tls.sni().flatMap(s -> ServerNames.match(serverNames, s)).isEmpty()) {
                    differences.add(new Difference(Aspect.SNI, String.join(", ", serverNames), sniText(tls)));
                }
            } else {
                differences.add(new Difference(Aspect.PROTOCOL, "https (TLS, matched by SNI)", request.protocol()));
            }
            return differences;
        }

        private List<Difference> httpDifferences(PortPlan plan, HttpHostAccess host) {
            List<Difference> differences = new ArrayList<>(portDifference(plan));
            if (!(request instanceof EgressRequest.Http http)) {
                differences.add(new Difference(Aspect.PROTOCOL, "http", request.protocol()));
                return differences;
            }
            // On another port the Host's port would change with it: compare the names only.
            List<String> domains =
                    plan.port() == request.port() ? VirtualHosts.domains(host, plan.port()) : List.of(host.host());
            String authority = plan.port() == request.port() ? http.authority() : withoutPort(http.authority());
            boolean hostMatches = domains.stream()
                    .anyMatch(d -> d.startsWith("*")
                            ? authority.length() > d.length() - 1 && authority.endsWith(d.substring(1))
                            : d.equals(authority));
            if (!hostMatches) {
                differences.add(new Difference(Aspect.HOST, String.join(" or ", domains), http.authority()));
            }
            if (!host.anyRequest()) {
                String path = RequestPath.normalize(http.pathAndQuery());
                host.matches().stream()
                        .map(m -> routeDifferences(m, http, path))
                        .min(Comparator.comparingInt(List::size))
                        .ifPresent(differences::addAll);
            }
            return differences;
        }

        private List<Difference> portDifference(PortPlan plan) {
            return plan.port() == request.port()
                    ? List.of()
                    : List.of(new Difference(Aspect.PORT, String.valueOf(plan.port()), String.valueOf(request.port())));
        }
    }

    /** What keeps {@code request} from one route match: empty when the route takes it. */
    static List<Difference> routeDifferences(HttpRequestMatch match, EgressRequest.Http request, String path) {
        List<Difference> differences = new ArrayList<>();
        String origin = " (" + match.origin() + ")";
        if (match.pathRegex() != null && !fullMatch(match.pathRegex(), path)) {
            differences.add(new Difference(Aspect.PATH, "regex " + match.pathRegex() + origin, path));
        }
        if (!match.methods().isEmpty() && !match.methods().contains(request.method())) {
            differences.add(
                    new Difference(Aspect.METHOD, String.join(", ", match.methods()) + origin, request.method()));
        }
        for (Map.Entry<String, String> header : new TreeMap<>(match.headers()).entrySet()) {
            Optional<String> value = request.header(header.getKey());
            if (value.isEmpty() || !fullMatch(header.getValue(), value.get())) {
                differences.add(new Difference(
                        Aspect.HEADER,
                        header.getKey() + " matching regex " + header.getValue() + origin,
                        value.map(v -> header.getKey() + ": " + v).orElse("no " + header.getKey() + " header")));
            }
        }
        return differences;
    }

    /** Envoy's safe_regex: RE2, and the whole string must match. */
    static boolean fullMatch(String regex, String text) {
        return Pattern.compile(regex).matcher(text).matches();
    }

    private static String describe(HttpRequestMatch match) {
        List<String> parts = new ArrayList<>();
        if (match.pathRegex() != null) {
            parts.add("path regex " + match.pathRegex());
        }
        if (!match.methods().isEmpty()) {
            parts.add("methods " + match.methods());
        }
        if (!match.headers().isEmpty()) {
            parts.add("headers " + new TreeMap<>(match.headers()));
        }
        return match.origin() + (parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")");
    }

    private static String sniText(EgressRequest.Tls tls) {
        return tls.sni().map(s -> "SNI " + s).orElse("missing SNI");
    }

    private static String withoutPort(String authority) {
        int colon = authority.lastIndexOf(':');
        return colon > 0 && !authority.endsWith("]") ? authority.substring(0, colon) : authority;
    }

    private static List<String> names(java.util.Collection<?> items) {
        return items.stream().map(Object::toString).toList();
    }

    /** The most specific range holding {@code address}, as Envoy's longest-prefix trie picks it. */
    static Optional<Cidr> mostSpecific(List<Cidr> ranges, InetAddress address) {
        byte[] bytes = address.getAddress();
        Cidr best = null;
        for (Cidr range : ranges) {
            Optional<InetAddress> network = io.portcullis.bootstrap.IpLiterals.parse(range.address());
            if (network.isEmpty() || network.get().getAddress().length != bytes.length) {
                continue;
            }
            int bits = bytes.length * 8;
            BigInteger mask = range.prefixLength() == 0
                    ? BigInteger.ZERO
                    : BigInteger.ONE
                            .shiftLeft(bits)
                            .subtract(BigInteger.ONE)
                            .shiftRight(range.prefixLength())
                            .not()
                            .and(BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE));
            BigInteger a = new BigInteger(1, bytes).and(mask);
            BigInteger n = new BigInteger(1, network.get().getAddress()).and(mask);
            if (a.equals(n) && (best == null || range.prefixLength() > best.prefixLength())) {
                best = range;
            }
        }
        return Optional.ofNullable(best);
    }
}
