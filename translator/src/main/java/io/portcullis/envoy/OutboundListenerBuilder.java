package io.portcullis.envoy;

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
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.ir.TlsAccess;
import io.portcullis.validation.Cidr;
import java.util.List;

/**
 * The one outbound listener that iptables sends every connection of the workload to. Filter chains are
 * selected by the original destination port, then address range, then TLS SNI; a connection no chain
 * takes lands on the default chain, which closes it (or forwards it, in passthrough mode).
 */
final class OutboundListenerBuilder {

    private OutboundListenerBuilder() {}

    static Listener build(SidecarEgressModel model) {
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
                        .setTypedConfig(EnvoyTypes.pack(OriginalDst.getDefaultInstance())));
        return switch (model) {
            case SidecarEgressModel.Passthrough passthrough ->
                listener.setDefaultFilterChain(
                                tcpChain("passthrough", EgressNames.ORIGINAL_DESTINATION_CLUSTER, "egress_passthrough"))
                        .build();
            case SidecarEgressModel.DenyAll denyAll ->
                listener.setDefaultFilterChain(deny(
                                denyAll.identity(),
                                "egress policy enforcement and egress passthrough are both off in MeshConfig"))
                        .build();
            case SidecarEgressModel.PolicyEnforced policy -> {
                addPortChains(listener, policy);
                yield listener.setDefaultFilterChain(deny(
                                policy.identity(), "no Egress policy allows this destination for this ServiceAccount"))
                        .build();
            }
        };
    }

    private static void addPortChains(Listener.Builder listener, SidecarEgressModel.PolicyEnforced policy) {
        List<Integer> tlsPorts = policy.ports().stream()
                .filter(p -> p.tls().isPresent())
                .map(PortPlan::port)
                .toList();
        if (!tlsPorts.isEmpty()) {
            listener.addListenerFilters(tlsInspector(tlsPorts));
        }
        for (PortPlan plan : policy.ports()) {
            plan.tcp().ifPresent(tcp -> listener.addFilterChains(tcpChain(plan, tcp.ranges())));
            plan.tls().ifPresent(tls -> listener.addFilterChains(tlsChain(plan.port(), tls)));
            if (!plan.httpHosts().isEmpty()) {
                listener.addFilterChains(httpChain(policy.identity(), plan));
            }
        }
    }

    private static FilterChain deny(ServiceAccountRef identity, String reason) {
        return FilterChain.newBuilder()
                .setName("deny")
                .addFilters(tcpProxyFilter(TcpProxy.newBuilder()
                        .setStatPrefix("egress_denied")
                        .setCluster(EgressNames.DENY_CLUSTER)
                        .addAccessLog(AccessLogs.tcpDenied(identity, reason))))
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
                .setTypedConfig(EnvoyTypes.pack(TlsInspector.getDefaultInstance()))
                .setFilterDisabled(
                        ListenerFilterChainMatchPredicate.newBuilder().setNotMatch(onTlsPort))
                .build();
    }

    private static FilterChain tcpChain(PortPlan plan, List<Cidr> ranges) {
        FilterChainMatch.Builder match = FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(plan.port()));
        ranges.forEach(range -> match.addPrefixRanges(cidr(range)));
        String prefix = "egress_tcp_" + plan.port();
        return tcpChain(prefix, EgressNames.ORIGINAL_DESTINATION_CLUSTER, prefix).toBuilder()
                .setFilterChainMatch(match)
                .build();
    }

    private static FilterChain tcpChain(String name, String cluster, String statPrefix) {
        return FilterChain.newBuilder()
                .setName(name)
                .addFilters(tcpProxyFilter(
                        TcpProxy.newBuilder().setStatPrefix(statPrefix).setCluster(cluster)))
                .build();
    }

    /** HTTPS is proxied as a TCP stream (TLS is not terminated) to the SNI's name as DNS resolves it. */
    private static FilterChain tlsChain(int port, TlsAccess tls) {
        var sniForwardProxy =
                io.envoyproxy.envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig.newBuilder()
                        .setDnsCacheConfig(EgressClusters.dnsCache())
                        .setPortValue(port)
                        .build();
        String prefix = "egress_tls_" + port;
        return FilterChain.newBuilder()
                .setName(prefix)
                .setFilterChainMatch(FilterChainMatch.newBuilder()
                        .setDestinationPort(UInt32Value.of(port))
                        .setTransportProtocol("tls")
                        .addAllServerNames(tls.serverNames()))
                .addFilters(Filter.newBuilder()
                        .setName("envoy.filters.network.sni_dynamic_forward_proxy")
                        .setTypedConfig(EnvoyTypes.pack(sniForwardProxy)))
                .addFilters(tcpProxyFilter(
                        TcpProxy.newBuilder().setStatPrefix(prefix).setCluster(EgressNames.TLS_FORWARD_PROXY_CLUSTER)))
                .build();
    }

    private static FilterChain httpChain(ServiceAccountRef identity, PortPlan plan) {
        var forwardProxy =
                io.envoyproxy.envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig.newBuilder()
                        .setDnsCacheConfig(EgressClusters.dnsCache())
                        .build();
        String prefix = "egress_http_" + plan.port();
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
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName(HttpRouteConfigBuilder.DYNAMIC_FORWARD_PROXY_FILTER)
                        .setTypedConfig(EnvoyTypes.pack(forwardProxy)))
                // The destination is outside the mesh: tell it nothing about Envoy (no x-envoy-* headers)
                // and let the client see the real server's Server header.
                .setServerHeaderTransformation(HttpConnectionManager.ServerHeaderTransformation.PASS_THROUGH)
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName("envoy.filters.http.router")
                        .setTypedConfig(EnvoyTypes.pack(Router.newBuilder()
                                .setSuppressEnvoyHeaders(true)
                                .build())))
                .addAccessLog(AccessLogs.httpDenied(identity, plan.port()))
                .build();
        return FilterChain.newBuilder()
                .setName(prefix)
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(plan.port())))
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
