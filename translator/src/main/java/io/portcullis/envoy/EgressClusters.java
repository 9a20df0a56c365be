package io.portcullis.envoy;

import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig;
import java.util.List;

/** The fixed set of upstream clusters every sidecar gets; policies only decide which chains use them. */
final class EgressClusters {

    private static final Duration CONNECT_TIMEOUT =
            Duration.newBuilder().setSeconds(5).build();

    private EgressClusters() {}

    /**
     * One DNS cache shared by the HTTP and TLS forward proxies: Envoy requires every user of a cache name
     * to carry the identical config. Names resolve through the sidecar's own resolver, so traffic allowed
     * by Host or SNI goes where DNS says, never to the address the client dialled.
     */
    static DnsCacheConfig dnsCache() {
        return DnsCacheConfig.newBuilder()
                .setName(EgressNames.DNS_CACHE)
                .setDnsLookupFamily(io.envoyproxy.envoy.config.cluster.v3.Cluster.DnsLookupFamily.V4_PREFERRED)
                .build();
    }

    /** The clusters: built once, as they never change (protobuf messages are immutable). */
    static List<Cluster> all() {
        return ALL;
    }

    private static final List<Cluster> ALL = List.of(
            forwardProxy(EgressNames.HTTP_FORWARD_PROXY_CLUSTER),
            forwardProxy(EgressNames.TLS_FORWARD_PROXY_CLUSTER),
            Cluster.newBuilder()
                    .setName(EgressNames.ORIGINAL_DESTINATION_CLUSTER)
                    .setType(Cluster.DiscoveryType.ORIGINAL_DST)
                    .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
                    .setConnectTimeout(CONNECT_TIMEOUT)
                    .build(),
            // No endpoints: a connection routed here is closed before any byte leaves the pod.
            Cluster.newBuilder()
                    .setName(EgressNames.DENY_CLUSTER)
                    .setType(Cluster.DiscoveryType.STATIC)
                    .setConnectTimeout(CONNECT_TIMEOUT)
                    .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(EgressNames.DENY_CLUSTER))
                    .build());

    private static Cluster forwardProxy(String name) {
        return Cluster.newBuilder()
                .setName(name)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
                .setClusterType(Cluster.CustomClusterType.newBuilder()
                        .setName("envoy.clusters.dynamic_forward_proxy")
                        .setTypedConfig(EnvoyTypes.pack(ClusterConfig.newBuilder()
                                .setDnsCacheConfig(dnsCache())
                                .build())))
                .build();
    }
}
