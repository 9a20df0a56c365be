package io.portcullis.xds;

import static io.portcullis.xds.EnvoyLikeAdsClient.CDS;
import static io.portcullis.xds.EnvoyLikeAdsClient.LDS;
import static io.portcullis.xds.EnvoyLikeAdsClient.RDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.testfixtures.EgressManifest;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each xDS type is sent with its own version, so a change re-sends only the types it changed, to a client that
 * speaks ADS as Envoy does ({@link EnvoyLikeAdsClient}) over the real gRPC server. java-control-plane answers a
 * change in a fixed order (clusters, listeners, route tables), so every response a change causes arrives before
 * its route tables: reading up to the first RouteConfiguration response shows all of them, without waiting.
 */
class PerTypeVersionsTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final String HTTPBIN = FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", "get-only");
    private static final String DB = "---\n"
            + EgressManifest.named("db-5432")
                    .ipAddress("10.1.2.0/24")
                    .port(5432, "tcp")
                    .yaml();

    private EgressControlPlane controlPlane;
    private SidecarRegistry registry;
    private XdsServer server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        controlPlane = new EgressControlPlane();
        controlPlane.apply(FailClosedOnNackTest.update(HTTPBIN + FailClosedOnNackTest.routeGroup("get-only", "/get")));
        registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        server = new XdsServer(new InetSocketAddress("127.0.0.1", 0), controlPlane, registry).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.close();
    }

    @Test
    void aChangedPathRegexSendsOnlyRouteTablesAndTheSidecarIsSyncedOnceItAcksThem() throws Exception {
        try (EnvoyLikeAdsClient sidecar = new EnvoyLikeAdsClient(channel, "sidecar~curl~curl~curl-1")) {
            assertThat(types(sidecar.untilFirst(RDS))).containsExactly(CDS, LDS, RDS);
            awaitSynced();
            SidecarResources.Versions before = served();

            controlPlane.apply(
                    FailClosedOnNackTest.update(HTTPBIN + FailClosedOnNackTest.routeGroup("get-only", "/anything")));

            SidecarResources.Versions after = served();
            assertThat(after.config()).isNotEqualTo(before.config());
            assertThat(after.routes()).isNotEqualTo(before.routes());
            assertThat(after.listeners()).isEqualTo(before.listeners());
            assertThat(after.clusters()).isEqualTo(before.clusters());
            List<DiscoveryResponse> sent = sidecar.untilFirst(RDS);
            assertThat(types(sent))
                    .as("a path regex lives in the route table: no new Listener or Cluster response")
                    .containsExactly(RDS);
            assertThat(sent.get(0).getVersionInfo()).isEqualTo(after.routes());
            assertThat(routeTables(sent.get(0)).toString()).contains("/anything");
            awaitSynced();
            assertThat(sidecar.accepted(LDS)).isEqualTo(before.listeners());
        }
    }

    @Test
    void aTcpPolicySendsOnlyListenersAndANewHttpPortSendsListenersAndItsRouteTable() throws Exception {
        try (EnvoyLikeAdsClient sidecar = new EnvoyLikeAdsClient(channel, "sidecar~curl~curl~curl-1")) {
            sidecar.untilFirst(RDS);
            awaitSynced();
            SidecarResources.Versions before = served();

            controlPlane.apply(
                    FailClosedOnNackTest.update(HTTPBIN + FailClosedOnNackTest.routeGroup("get-only", "/get") + DB));
            SidecarResources.Versions tcp = served();
            assertThat(tcp.routes()).as("same route tables").isEqualTo(before.routes());
            assertThat(tcp.listeners()).isNotEqualTo(before.listeners());
            // A marker: an RDS-only change after it. Had the TCP change sent route tables, they would come first.
            controlPlane.apply(
                    FailClosedOnNackTest.update(HTTPBIN + FailClosedOnNackTest.routeGroup("get-only", "/get/?") + DB));
            List<DiscoveryResponse> sent = sidecar.untilFirst(RDS);
            assertThat(types(sent)).containsExactly(LDS, RDS);
            assertThat(sent.get(0).getVersionInfo()).isEqualTo(tcp.listeners());
            assertThat(sent.get(1).getVersionInfo()).isEqualTo(served().routes());
            awaitSynced();

            SidecarResources.Versions beforePort = served();
            controlPlane.apply(FailClosedOnNackTest.update(HTTPBIN
                    + FailClosedOnNackTest.routeGroup("get-only", "/get/?")
                    + DB
                    + "---\n"
                    + EgressManifest.named("example-8080")
                            .host("example.com")
                            .port(8080, "http")
                            .yaml()));
            SidecarResources.Versions withPort = served();
            assertThat(withPort.clusters()).isEqualTo(beforePort.clusters());
            assertThat(types(sidecar.untilFirst(RDS)))
                    .as("a new route table is named by the listener: both are sent, the clusters are not")
                    .containsExactly(LDS, RDS);
            awaitSynced();
            assertThat(sidecar.accepted(RDS)).isEqualTo(withPort.routes());
            assertThat(sidecar.accepted(CDS)).isEqualTo(before.clusters());
        }
    }

    @Test
    void removingAnHttpPortSendsItsRouteTableAsDenyAll() throws Exception {
        try (EnvoyLikeAdsClient sidecar = new EnvoyLikeAdsClient(channel, "sidecar~curl~curl~curl-1")) {
            sidecar.untilFirst(RDS);
            awaitSynced();
            String retired = controlPlane.served(CURL).orElseThrow().resources().routes().stream()
                    .map(RouteConfiguration::getName)
                    .findFirst()
                    .orElseThrow();

            controlPlane.apply(FailClosedOnNackTest.update(DB));

            List<DiscoveryResponse> sent = sidecar.untilFirst(RDS);
            assertThat(types(sent)).containsExactly(LDS, RDS);
            assertThat(routeTables(sent.get(1)))
                    .as("the tombstone is what the RDS version covers: it is sent, so the old routes are gone")
                    .singleElement()
                    .satisfies(table -> {
                        assertThat(table.getName()).isEqualTo(retired);
                        assertThat(table.getVirtualHostsList()).singleElement().satisfies(host -> {
                            assertThat(host.getDomainsList()).containsExactly("*");
                            assertThat(host.getRoutesList())
                                    .singleElement()
                                    .satisfies(route -> assertThat(route.hasDirectResponse())
                                            .as("refused, not routed")
                                            .isTrue());
                        });
                    });
            SidecarResources.Versions tcpOnly = served();
            assertThat(tcpOnly.listenersUseRoutes()).isFalse();
            assertThat(sent.get(1).getVersionInfo()).isEqualTo(tcpOnly.routes());
            awaitSynced();
        }
    }

    @Test
    void aRejectedRdsOnlyChangeQuarantinesThePolicyWhoseRouteGroupChangedAndTheSidecarIsSyncedOnTheNarrowerConfig()
            throws Exception {
        controlPlane.apply(
                FailClosedOnNackTest.update(HTTPBIN + FailClosedOnNackTest.routeGroup("get-only", "/get") + DB));
        try (EnvoyLikeAdsClient sidecar = new EnvoyLikeAdsClient(channel, "sidecar~curl~curl~curl-1")) {
            sidecar.untilFirst(RDS);
            awaitSynced();
            String acceptedListeners = served().listeners();

            sidecar.rejectWhen(response -> response.getTypeUrl().equals(RDS)
                    && routeTables(response).toString().contains("/get(/[a-z]{1,40})?"));
            controlPlane.apply(FailClosedOnNackTest.update(
                    HTTPBIN + FailClosedOnNackTest.routeGroup("get-only", "/get(/[a-z]{1,40})?") + DB));
            String rejected = served().routes();
            List<DiscoveryResponse> narrowed = sidecar.untilFirst(RDS);
            assertThat(types(narrowed)).containsExactly(RDS);
            assertThat(narrowed.get(0).getVersionInfo()).isEqualTo(rejected);

            // The NACK of the route tables blames the Egress whose route group changed; the TCP policy stays.
            List<DiscoveryResponse> answer = sidecar.untilFirst(RDS);
            assertThat(types(answer)).containsExactly(LDS, RDS);
            assertThat(answer.get(0).getVersionInfo()).isNotEqualTo(acceptedListeners);
            assertThat(answer.get(1).getVersionInfo()).isNotEqualTo(rejected);
            assertThat(controlPlane.quarantined()).singleElement().satisfies(q -> {
                assertThat(q.policy().toString()).isEqualTo("Egress curl/httpbin-80");
                assertThat(q.type()).isEqualTo("RouteConfiguration");
                assertThat(q.envoyMessage()).isEqualTo("rejected by the test");
            });
            SidecarEgressModel.PolicyEnforced model = (SidecarEgressModel.PolicyEnforced)
                    controlPlane.served(CURL).orElseThrow().model();
            assertThat(model.ports()).extracting(PortPlan::port).containsExactly(5432);

            awaitSynced();
            SidecarStatus.TypeStatus routes = registry.sidecars().get(0).types().get("RouteConfiguration");
            assertThat(routes.nackedVersion()).isEqualTo(rejected);
            assertThat(routes.nacks()).as("rejected once, never re-sent").isEqualTo(1);
            assertThat(sidecar.unread()).isEmpty();
        }
    }

    private SidecarResources.Versions served() {
        return controlPlane.served(CURL).orElseThrow().resources().versions();
    }

    /** What proxy-status would show: SYNCED, on the served config version. */
    private void awaitSynced() {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(registry.sidecars()).hasSize(1);
            SidecarSync sync = SidecarSync.assess(
                    registry.sidecars().get(0), served(), Instant.now(), SidecarSync.DEFAULT_STALE_AFTER);
            assertThat(sync.state()).as(sync.detail()).isEqualTo(SidecarSync.State.SYNCED);
            assertThat(sync.detail()).isEqualTo("runs the served version " + served().config());
        });
    }

    private static List<String> types(List<DiscoveryResponse> responses) {
        return responses.stream().map(DiscoveryResponse::getTypeUrl).toList();
    }

    private static List<RouteConfiguration> routeTables(DiscoveryResponse response) {
        Map<String, RouteConfiguration> tables = new TreeMap<>();
        for (Any resource : response.getResourcesList()) {
            try {
                RouteConfiguration table = resource.unpack(RouteConfiguration.class);
                tables.put(table.getName(), table);
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        return List.copyOf(tables.values());
    }
}
