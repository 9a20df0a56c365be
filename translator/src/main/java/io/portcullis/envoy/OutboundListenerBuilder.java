package io.portcullis.envoy;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilterChainMatchPredicate;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.v3.Int32Range;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.ir.TcpAccess;
import io.portcullis.ir.TlsAccess;
import io.portcullis.validation.Cidr;
import io.portcullis.validation.PolicyOrigin;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one outbound listener that iptables sends every connection of the workload to. Filter chains are
 * selected by the original destination port, then address range, then TLS SNI; a connection no chain
 * takes lands on the default chain, which closes it (or forwards it, in passthrough mode).
 */
final class OutboundListenerBuilder {

    // The typed configs every listener has alike, packed once (packing serialises them).
    private static final Any ORIGINAL_DST = EnvoyTypes.pack(OriginalDst.getDefaultInstance());
    private static final Any TLS_INSPECTOR = EnvoyTypes.pack(TlsInspector.getDefaultInstance());
    private static final Any HTTP_FORWARD_PROXY = EnvoyTypes.pack(
            io.envoyproxy.envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig.newBuilder()
                    .setDnsCacheConfig(EgressClusters.dnsCache())
                    .build());
    private static final Any ROUTER =
            EnvoyTypes.pack(Router.newBuilder().setSuppressEnvoyHeaders(true).build());

    private OutboundListenerBuilder() {}

    /** @param loggers the model's identity's (see {@link AccessLogs.DecisionSampling} for the sample rate) */
    static Listener build(SidecarEgressModel model, AccessLogs.Loggers loggers) {
        Listener.Builder listener = Listener.newBuilder()
                .setName(EgressNames.OUTBOUND_LISTENER)
                .setAddress(Address.newBuilder()
                        .setSocketAddress(SocketAddress.newBuilder()
                                .setAddress("0.0.0.0")
                                .setPortValue(SidecarContract.OUTBOUND_PORT)))
                .setTrafficDirection(TrafficDirection.OUTBOUND)
                // Recover the address the workload dialled from the iptables REDIRECT.
                .addListenerFilters(ListenerFilter.newBuilder()
                        .setName("envoy.filters.listener.original_dst")
                        .setTypedConfig(ORIGINAL_DST));
        return switch (model) {
            case SidecarEgressModel.Passthrough passthrough ->
                listener.setDefaultFilterChain(tcpChain(
                                EgressNames.PASSTHROUGH_CHAIN,
                                EgressNames.ORIGINAL_DESTINATION_CLUSTER,
                                "egress_passthrough"))
                        .build();
            case SidecarEgressModel.DenyAll denyAll ->
                listener.setDefaultFilterChain(refuse(
                                EgressNames.DENY_CHAIN,
                                loggers,
                                denyAll.audit(),
                                "egress policy enforcement and egress passthrough are both off in MeshConfig"))
                        .build();
            case SidecarEgressModel.PolicyEnforced policy -> {
                addPortChains(listener, policy, loggers);
                yield listener.setDefaultFilterChain(refuse(EgressNames.DENY_CHAIN, loggers, policy.audit(), NO_POLICY))
                        .build();
            }
        };
    }

    static final String NO_POLICY = "no Egress policy allows this destination for this ServiceAccount";

    private static void addPortChains(
            Listener.Builder listener, SidecarEgressModel.PolicyEnforced policy, AccessLogs.Loggers loggers) {
        List<Integer> tlsPorts = policy.ports().stream()
                .filter(p -> p.tls().isPresent())
                .map(PortPlan::port)
                .toList();
        if (!tlsPorts.isEmpty()) {
            listener.addListenerFilters(tlsInspector(tlsPorts));
        }
        for (PortPlan plan : policy.ports()) {
            plan.tcp().ifPresent(tcp -> tcpChains(plan, tcp, loggers).forEach(listener::addFilterChains));
            plan.tls().ifPresent(tls -> tlsChains(plan.port(), tls, loggers).forEach(listener::addFilterChains));
            if (!plan.httpHosts().isEmpty()) {
                listener.addFilterChains(httpChain(plan, loggers));
            } else if (plan.audit()
                    && !policy.audit()
                    && !plan.tcp().map(TcpAccess::anyAddress).orElse(false)) {
                // An Egress in audit: what its port's chains do not take is let through on that port
                // only, as the default chain would refuse it. (In an audited namespace the default
                // chain does this for every port; with TCP to any address nothing is left over.)
                listener.addFilterChains(
                        refuse(EgressNames.auditChain(plan.port()), loggers, true, NO_POLICY).toBuilder()
                                .setFilterChainMatch(
                                        FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(plan.port())))
                                .build());
            }
        }
    }

    /**
     * The chain of what no policy allows: closed, or in audit mode forwarded to the address dialled. Either
     * way logged and counted ({@code deny} or {@code would_deny}) with the same reason.
     */
    private static FilterChain refuse(String name, AccessLogs.Loggers loggers, boolean audit, String reason) {
        AccessLogs.Decision decision = new AccessLogs.Decision(
                DecisionLog.TCP, audit ? DecisionLog.WOULD_DENY : DecisionLog.DENY, null, null, reason);
        TcpProxy.Builder proxy = audit
                ? TcpProxy.newBuilder()
                        .setStatPrefix("egress_would_deny")
                        .setCluster(EgressNames.ORIGINAL_DESTINATION_CLUSTER)
                : TcpProxy.newBuilder().setStatPrefix("egress_denied").setCluster(EgressNames.DENY_CLUSTER);
        return FilterChain.newBuilder()
                .setName(name)
                .addFilters(AccessLogs.IDENTITY_FILTER)
                .addFilters(tcpProxyFilter(proxy.addAllAccessLog(loggers.tcp(decision))))
                .build();
    }

    /**
     * TLS inspection only where SNI is needed: it waits for the ClientHello, which a server-first
     * protocol never sends, so any other port gets its first byte through without delay.
     */
    private static ListenerFilter tlsInspector(List<Integer> tlsPorts) {
        ListenerFilterChainMatchPredicate.MatchSet.Builder tlsPortSet =
                ListenerFilterChainMatchPredicate.MatchSet.newBuilder();
        for (int port : tlsPorts) {
            tlsPortSet.addRules(ListenerFilterChainMatchPredicate.newBuilder()
                    .setDestinationPortRange(
                            Int32Range.newBuilder().setStart(port).setEnd(port + 1)));
        }
        ListenerFilterChainMatchPredicate onTlsPort = tlsPorts.size() == 1
                ? tlsPortSet.getRules(0)
                : ListenerFilterChainMatchPredicate.newBuilder()
                        .setOrMatch(tlsPortSet)
                        .build();
        return ListenerFilter.newBuilder()
                .setName("envoy.filters.listener.tls_inspector")
                .setTypedConfig(TLS_INSPECTOR)
                .setFilterDisabled(
                        ListenerFilterChainMatchPredicate.newBuilder().setNotMatch(onTlsPort))
                .build();
    }

    /**
     * One chain per deciding policy, so each chain's log names the policy that allowed the connection;
     * Envoy takes the chain with the most specific range containing the address dialled.
     */
    private static List<FilterChain> tcpChains(PortPlan plan, TcpAccess tcp, AccessLogs.Loggers loggers) {
        if (tcp.anyAddress()) {
            return List.of(tcpChain(
                    EgressNames.tcpChain(plan.port(), tcp, tcp.anyAddressPolicy()),
                    loggers,
                    FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(plan.port())),
                    new AccessLogs.Decision(
                            DecisionLog.TCP,
                            DecisionLog.ALLOW,
                            policyName(tcp.anyAddressPolicy()),
                            null,
                            "tcp to any address on port " + plan.port())));
        }
        Map<PolicyOrigin, List<Cidr>> byPolicy = new TreeMap<>();
        tcp.decidedBy()
                .forEach((range, policy) ->
                        byPolicy.computeIfAbsent(policy, p -> new ArrayList<>()).add(range));
        List<FilterChain> chains = new ArrayList<>();
        for (Map.Entry<PolicyOrigin, List<Cidr>> group : byPolicy.entrySet()) {
            FilterChainMatch.Builder match =
                    FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(plan.port()));
            group.getValue().forEach(range -> match.addPrefixRanges(cidr(range)));
            chains.add(tcpChain(
                    EgressNames.splitChain("egress_tcp_" + plan.port(), byPolicy.size(), chains.size()),
                    loggers,
                    match,
                    new AccessLogs.Decision(
                            DecisionLog.TCP,
                            DecisionLog.ALLOW,
                            policyName(group.getKey()),
                            null,
                            "tcp to "
                                    + String.join(
                                            ", ",
                                            group.getValue().stream()
                                                    .map(Cidr::toString)
                                                    .toList()) + " on port " + plan.port())));
        }
        return chains;
    }

    private static FilterChain tcpChain(
            String name, AccessLogs.Loggers loggers, FilterChainMatch.Builder match, AccessLogs.Decision decision) {
        return FilterChain.newBuilder()
                .setName(name)
                .setFilterChainMatch(match)
                .addFilters(AccessLogs.IDENTITY_FILTER)
                .addFilters(tcpProxyFilter(TcpProxy.newBuilder()
                        .setStatPrefix(
                                "egress_tcp_" + match.getDestinationPort().getValue())
                        .setCluster(EgressNames.ORIGINAL_DESTINATION_CLUSTER)
                        .addAllAccessLog(loggers.tcp(decision))))
                .build();
    }

    /** How a policy is named in the decision log and the counter's {@code policy} label: {@code namespace/name}. */
    static String policyName(PolicyOrigin origin) {
        return EgressNames.policyName(origin);
    }

    private static FilterChain tcpChain(String name, String cluster, String statPrefix) {
        return FilterChain.newBuilder()
                .setName(name)
                .addFilters(tcpProxyFilter(
                        TcpProxy.newBuilder().setStatPrefix(statPrefix).setCluster(cluster)))
                .build();
    }

    /**
     * HTTPS is proxied as a TCP stream (TLS is not terminated) to the SNI's name as DNS resolves it. One
     * chain per deciding policy, so each chain's log names the policy that allowed the server name.
     */
    private static List<FilterChain> tlsChains(int port, TlsAccess tls, AccessLogs.Loggers loggers) {
        var sniForwardProxy =
                io.envoyproxy.envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig.newBuilder()
                        .setDnsCacheConfig(EgressClusters.dnsCache())
                        .setPortValue(port)
                        .build();
        String statPrefix = "egress_tls_" + port;
        Map<PolicyOrigin, List<String>> byPolicy = new TreeMap<>();
        tls.decidedBy()
                .forEach((name, policy) ->
                        byPolicy.computeIfAbsent(policy, p -> new ArrayList<>()).add(name));
        List<FilterChain> chains = new ArrayList<>();
        for (Map.Entry<PolicyOrigin, List<String>> group : byPolicy.entrySet()) {
            AccessLogs.Decision decision = new AccessLogs.Decision(
                    DecisionLog.TLS,
                    DecisionLog.ALLOW,
                    policyName(group.getKey()),
                    null,
                    "tls server name " + String.join(", ", group.getValue()) + " on port " + port);
            chains.add(FilterChain.newBuilder()
                    .setName(EgressNames.splitChain("egress_tls_" + port, byPolicy.size(), chains.size()))
                    .setFilterChainMatch(FilterChainMatch.newBuilder()
                            .setDestinationPort(UInt32Value.of(port))
                            .setTransportProtocol("tls")
                            .addAllServerNames(group.getValue()))
                    .addFilters(AccessLogs.IDENTITY_FILTER)
                    .addFilters(Filter.newBuilder()
                            .setName("envoy.filters.network.sni_dynamic_forward_proxy")
                            .setTypedConfig(EnvoyTypes.pack(sniForwardProxy)))
                    .addFilters(tcpProxyFilter(TcpProxy.newBuilder()
                            .setStatPrefix(statPrefix)
                            .setCluster(EgressNames.TLS_FORWARD_PROXY_CLUSTER)
                            .addAllAccessLog(loggers.tcp(decision))))
                    .build());
        }
        return chains;
    }

    private static FilterChain httpChain(PortPlan plan, AccessLogs.Loggers loggers) {
        String prefix = EgressNames.httpChain(plan.port());
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix(prefix)
                .setRds(Rds.newBuilder()
                        .setRouteConfigName(EgressNames.httpRouteConfig(plan.port()))
                        .setConfigSource(ConfigSource.newBuilder()
                                .setAds(AggregatedConfigSource.getDefaultInstance())
                                .setResourceApiVersion(ApiVersion.V3)))
                // Match the policy's path regexes against the path the server will act on, so
                // "/get/../status/500" or "//status" cannot slip past a "/get" rule.
                .setNormalizePath(com.google.protobuf.BoolValue.of(true))
                .setMergeSlashes(true)
                // First, so a refusing route marks its request whatever a later filter does with it.
                .addHttpFilters(AccessLogs.DecisionSampling.REFUSAL_MARK_FILTER)
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName(HttpRouteConfigBuilder.DYNAMIC_FORWARD_PROXY_FILTER)
                        .setTypedConfig(HTTP_FORWARD_PROXY))
                // The destination is outside the mesh: tell it nothing about Envoy (no x-envoy-* headers)
                // and let the client see the real server's Server header.
                .setServerHeaderTransformation(HttpConnectionManager.ServerHeaderTransformation.PASS_THROUGH)
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName("envoy.filters.http.router")
                        .setTypedConfig(ROUTER))
                .addAllAccessLog(loggers.http())
                .build();
        return FilterChain.newBuilder()
                .setName(prefix)
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(plan.port())))
                .addFilters(AccessLogs.IDENTITY_FILTER)
                .addFilters(Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(EnvoyTypes.pack(hcm)))
                .build();
    }

    private static Filter tcpProxyFilter(TcpProxy.Builder tcpProxy) {
        return Filter.newBuilder()
                .setName("envoy.filters.network.tcp_proxy")
                .setTypedConfig(EnvoyTypes.pack(tcpProxy.build()))
                .build();
    }

    private static CidrRange cidr(Cidr range) {
        return CidrRange.newBuilder()
                .setAddressPrefix(range.address())
                .setPrefixLen(UInt32Value.of(range.prefixLength()))
                .build();
    }
}
