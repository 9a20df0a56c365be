package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.bootstrap.v3.RuntimeLayer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SidecarBootstrapTest {

    private static final SidecarNodeId NODE = new SidecarNodeId("shop", "cart", "cart-7d9f8c-x2k4q");

    @Test
    void carriesTheSidecarIdentity() {
        Bootstrap b = SidecarBootstrap.of(NODE, "10.96.0.10", 18000).toProto();

        assertThat(b.getNode().getId()).isEqualTo("sidecar~shop~cart~cart-7d9f8c-x2k4q");
        assertThat(b.getNode().getCluster()).isEqualTo("cart.shop");
        assertThat(b.getNode().getMetadata().getFieldsMap())
                .hasSize(3)
                .hasEntrySatisfying(
                        "namespace", v -> assertThat(v.getStringValue()).isEqualTo("shop"))
                .hasEntrySatisfying(
                        "service_account", v -> assertThat(v.getStringValue()).isEqualTo("cart"))
                .hasEntrySatisfying(
                        "pod_name", v -> assertThat(v.getStringValue()).isEqualTo("cart-7d9f8c-x2k4q"));
        assertThat(SidecarNodeId.parse(b.getNode().getId())).isEqualTo(NODE);
    }

    @Test
    void getsListenersAndClustersOverAdsOnly() throws Exception {
        Bootstrap b = SidecarBootstrap.of(NODE, "10.96.0.10", 18000).toProto();

        ApiConfigSource ads = b.getDynamicResources().getAdsConfig();
        assertThat(ads.getApiType()).isEqualTo(ApiConfigSource.ApiType.GRPC);
        assertThat(ads.getTransportApiVersion()).isEqualTo(ApiVersion.V3);
        assertThat(ads.getSetNodeOnFirstMessageOnly()).isFalse();
        assertThat(ads.getGrpcServicesList())
                .singleElement()
                .satisfies(g -> assertThat(g.getEnvoyGrpc().getClusterName()).isEqualTo("xds_cluster"));
        for (var source : java.util.List.of(
                b.getDynamicResources().getCdsConfig(), b.getDynamicResources().getLdsConfig())) {
            assertThat(source.hasAds()).isTrue();
            assertThat(source.getResourceApiVersion()).isEqualTo(ApiVersion.V3);
        }
        // The outbound listener arrives over xDS: the only static listener is the health one, which forwards
        // nothing but GET /ready to the loopback admin API.
        assertThat(b.getStaticResources().getListenersList())
                .extracting(l ->
                        l.getName() + " " + l.getAddress().getSocketAddress().getPortValue())
                .containsExactly("sidecar_health " + SidecarContract.HEALTH_PORT);
        assertThat(b.getStaticResources().getClustersList())
                .extracting(Cluster::getName)
                .containsExactly("xds_cluster", "sidecar_admin");

        Cluster xds = b.getStaticResources().getClusters(0);
        assertThat(xds.getConnectTimeout().getSeconds()).isEqualTo(1);
        assertThat(xds.getUpstreamConnectionOptions().hasTcpKeepalive()).isTrue();
        HttpProtocolOptions http = xds.getTypedExtensionProtocolOptionsOrThrow(
                        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                .unpack(HttpProtocolOptions.class);
        assertThat(http.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
        var socket = xds.getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress();
        assertThat(socket.getAddress()).isEqualTo("10.96.0.10");
        assertThat(socket.getPortValue()).isEqualTo(18000);

        var admin = b.getAdmin().getAddress().getSocketAddress();
        assertThat(admin.getAddress()).isEqualTo("127.0.0.1");
        assertThat(admin.getPortValue()).isEqualTo(15000);
    }

    @Test
    void reopensTheAdsStreamWithinASecond() {
        Bootstrap b = SidecarBootstrap.of(NODE, "10.96.0.10", 18000).toProto();

        var grpc = b.getDynamicResources().getAdsConfig().getGrpcServices(0).getEnvoyGrpc();
        assertThat(grpc.hasRetryPolicy()).isTrue();
        var backOff = grpc.getRetryPolicy().getRetryBackOff();
        assertThat(backOff.getBaseInterval())
                .isEqualTo(com.google.protobuf.Duration.newBuilder()
                        .setNanos(250_000_000)
                        .build());
        assertThat(backOff.getMaxInterval())
                .isEqualTo(
                        com.google.protobuf.Duration.newBuilder().setSeconds(1).build());
    }

    @Test
    void listsEveryControlPlaneInTheXdsClusterInTheGivenOrder() {
        Bootstrap b = SidecarBootstrap.of(
                        NODE,
                        java.util.List.of(
                                new XdsEndpoint("10.96.0.10", 15010),
                                new XdsEndpoint("10.96.0.11", 15010),
                                new XdsEndpoint("fd00::12", 15011)))
                .toProto();

        Cluster xds = b.getStaticResources().getClusters(0);
        assertThat(xds.getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
        // One locality, default round robin: a broken stream is re-opened to the next control plane.
        assertThat(xds.getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
        assertThat(xds.getLoadAssignment().getEndpointsList())
                .singleElement()
                .satisfies(locality -> assertThat(locality.getLbEndpointsList())
                        .extracting(e -> new XdsEndpoint(
                                e.getEndpoint().getAddress().getSocketAddress().getAddress(),
                                e.getEndpoint().getAddress().getSocketAddress().getPortValue()))
                        .containsExactly(
                                new XdsEndpoint("10.96.0.10", 15010),
                                new XdsEndpoint("10.96.0.11", 15010),
                                new XdsEndpoint("fd00::12", 15011)));
    }

    @Test
    void oneHostNameAmongTheControlPlanesMakesTheClusterStrictDns() {
        Bootstrap b = SidecarBootstrap.of(
                        NODE,
                        java.util.List.of(
                                new XdsEndpoint("10.96.0.10", 15010),
                                new XdsEndpoint("portcullis-b.portcullis-system.svc", 15010)))
                .toProto();

        assertThat(b.getStaticResources().getClusters(0).getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    }

    @Test
    void refusesNoControlPlaneAndOneListedTwice() {
        assertThatThrownBy(() -> SidecarBootstrap.of(NODE, java.util.List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("at least one xDS endpoint is needed");
        assertThatThrownBy(() -> SidecarBootstrap.of(
                        NODE,
                        java.util.List.of(
                                new XdsEndpoint("10.96.0.10", 15010),
                                new XdsEndpoint("10.96.0.11", 15010),
                                new XdsEndpoint("10.96.0.10", 15010))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("xDS endpoint 10.96.0.10:15010 is listed twice");
    }

    @Test
    void runtimeLayersAreTheContractThenTheControlPlanesRtdsLayerThenTheAdminOverride() {
        Bootstrap b = SidecarBootstrap.of(NODE, "10.96.0.10", 18000).toProto();

        assertThat(b.getLayeredRuntime().getLayersList())
                .extracting(RuntimeLayer::getLayerSpecifierCase)
                .containsExactly(
                        RuntimeLayer.LayerSpecifierCase.STATIC_LAYER,
                        RuntimeLayer.LayerSpecifierCase.RTDS_LAYER,
                        RuntimeLayer.LayerSpecifierCase.ADMIN_LAYER);
        assertThat(b.getLayeredRuntime()
                        .getLayers(0)
                        .getStaticLayer()
                        .getFieldsOrThrow("re2.max_program_size.error_level")
                        .getNumberValue())
                .isEqualTo(SidecarContract.REGEX_MAX_PROGRAM_SIZE);
        RuntimeLayer.RtdsLayer rtds = b.getLayeredRuntime().getLayers(1).getRtdsLayer();
        assertThat(rtds.getName()).isEqualTo(SidecarBootstrap.RTDS_LAYER);
        assertThat(rtds.getRtdsConfig().hasAds())
                .as("RTDS is its own stream, not ADS")
                .isFalse();
        assertThat(rtds.getRtdsConfig().getResourceApiVersion()).isEqualTo(ApiVersion.V3);
        ApiConfigSource source = rtds.getRtdsConfig().getApiConfigSource();
        assertThat(source.getApiType()).isEqualTo(ApiConfigSource.ApiType.GRPC);
        assertThat(source.getTransportApiVersion()).isEqualTo(ApiVersion.V3);
        assertThat(source.getGrpcServices(0).getEnvoyGrpc().getClusterName()).isEqualTo(SidecarBootstrap.XDS_CLUSTER);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.96.0.10", "fd00::10", "::1"})
    void ipLiteralXdsHostIsStatic(String host) {
        assertThat(SidecarBootstrap.of(NODE, host, 18000)
                        .toProto()
                        .getStaticResources()
                        .getClusters(0)
                        .getType())
                .isEqualTo(Cluster.DiscoveryType.STATIC);
    }

    @ParameterizedTest
    @ValueSource(strings = {"portcullis", "portcullis.portcullis-system.svc", "xds.example.COM.", "0xds.internal"})
    void hostNameXdsHostIsStrictDns(String host) {
        assertThat(SidecarBootstrap.of(NODE, host, 18000)
                        .toProto()
                        .getStaticResources()
                        .getClusters(0)
                        .getType())
                .isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "xds host", "10.0.0.256", "1.2.3", "[::1]", "-xds", "xds..svc", "http://xds"})
    void rejectsBadXdsHosts(String host) {
        assertThatThrownBy(() -> SidecarBootstrap.of(NODE, host, 18000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("xdsHost '" + host + "'");
    }

    @Test
    void adminMustBeLoopback() {
        assertThat(new SidecarBootstrap(NODE, "xds", 18000, 15000, "::1")
                        .toProto()
                        .getAdmin()
                        .getAddress()
                        .getSocketAddress()
                        .getAddress())
                .isEqualTo("::1");
        assertThat(new SidecarBootstrap(NODE, "xds", 18000, 15000, "127.0.0.2").adminAddress())
                .isEqualTo("127.0.0.2");

        assertThatThrownBy(() -> new SidecarBootstrap(NODE, "xds", 18000, 15000, "0.0.0.0"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("adminAddress '0.0.0.0' is not loopback: Envoy's admin API must never be reachable"
                        + " from outside the pod");
        assertThatThrownBy(() -> new SidecarBootstrap(NODE, "xds", 18000, 15000, "10.1.2.3"))
                .hasMessageContaining("is not loopback");
        assertThatThrownBy(() -> new SidecarBootstrap(NODE, "xds", 18000, 15000, "::"))
                .hasMessageContaining("is not loopback");
        // A name would need DNS and could resolve anywhere; Envoy's admin wants an IP anyway.
        assertThatThrownBy(() -> new SidecarBootstrap(NODE, "xds", 18000, 15000, "localhost"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("adminAddress 'localhost' must be a loopback IP literal such as 127.0.0.1 or ::1");
    }

    @Test
    void rejectsBadPorts() {
        assertThatThrownBy(() -> SidecarBootstrap.of(NODE, "xds", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("xdsPort 0 is outside 1-65535");
        assertThatThrownBy(() -> new SidecarBootstrap(NODE, "xds", 18000, 65536, "127.0.0.1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("adminPort 65536 is outside 1-65535");
    }

    @Test
    void yamlAndJsonDescribeExactlyTheProto() throws Exception {
        // Names YAML would otherwise read as a bool ("on") or a number ("1e3") must stay strings.
        SidecarBootstrap sb = SidecarBootstrap.of(new SidecarNodeId("on", "true", "1e3"), "xds.svc", 18000);
        JsonFormat.Parser parser = JsonFormat.parser().usingTypeRegistry(SidecarBootstrap.TYPES);

        Bootstrap.Builder fromJson = Bootstrap.newBuilder();
        parser.merge(sb.toJson(), fromJson);
        String yamlAsJson = new ObjectMapper().writeValueAsString(new YAMLMapper().readTree(sb.toYaml()));
        Bootstrap.Builder fromYaml = Bootstrap.newBuilder();
        parser.merge(yamlAsJson, fromYaml);

        assertThat(fromJson.build()).isEqualTo(sb.toProto());
        assertThat(fromYaml.build()).isEqualTo(sb.toProto());
        assertThat(sb.toYaml()).contains("namespace: \"on\"", "pod_name: \"1e3\"", "service_account: \"true\"");
    }
}
