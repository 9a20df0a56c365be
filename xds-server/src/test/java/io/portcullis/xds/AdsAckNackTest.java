package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Status;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.source.SourceUpdate;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An ADS client speaking to the real gRPC server: identity from the node id, ACK and NACK bookkeeping. */
class AdsAckNackTest {

    private EgressControlPlane controlPlane;
    private SidecarRegistry registry;
    private XdsServer server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
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
    void recordsIdentityAckAndNackWithEnvoysMessage() throws Exception {
        BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(collect(responses, new LinkedBlockingQueue<>()));
        Node node = SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-1"));
        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .build());

        DiscoveryResponse listeners = responses.poll(10, TimeUnit.SECONDS);
        assertThat(listeners)
                .as("the identity's snapshot is built on first contact and sent")
                .isNotNull();
        assertThat(listeners.getVersionInfo())
                .isEqualTo(controlPlane
                        .served(new io.portcullis.input.ServiceAccountRef("curl", "curl"))
                        .orElseThrow()
                        .resources()
                        .versions()
                        .listeners());

        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .setVersionInfo(listeners.getVersionInfo())
                .setResponseNonce(listeners.getNonce())
                .build());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> listeners
                        .getVersionInfo()
                        .equals(registry.sidecars().get(0).ackedListenerVersion()));
        assertThat(registry.sidecars().get(0).identity().toString()).isEqualTo("curl/curl");

        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .setVersionInfo(listeners.getVersionInfo())
                .setResponseNonce(listeners.getNonce())
                .setErrorDetail(Status.newBuilder().setCode(3).setMessage("duplicate filter chain match"))
                .build());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> "duplicate filter chain match"
                        .equals(registry.sidecars()
                                .get(0)
                                .types()
                                .get("Listener")
                                .nackMessage()));
        requests.onCompleted();
    }

    @Test
    void aNackIsAnsweredOnlyWithANarrowerConfigAndARejectedDenyAllWithSilenceUntilTheSnapshotChanges()
            throws Exception {
        controlPlane.apply(FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", null)));
        BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(collect(responses, new LinkedBlockingQueue<>()));
        requests.onNext(listeners(CURL_1).build());
        DiscoveryResponse open = next(responses);
        requests.onNext(listeners(CURL_1)
                .setVersionInfo(open.getVersionInfo())
                .setResponseNonce(open.getNonce())
                .build());
        List<String> routeNames = controlPlane.served(CURL).orElseThrow().resources().routes().stream()
                .map(io.envoyproxy.envoy.config.route.v3.RouteConfiguration::getName)
                .toList();
        requests.onNext(routes(CURL_1, routeNames).build());
        DiscoveryResponse openRoutes = next(responses);
        assertThat(openRoutes.getTypeUrl()).isEqualTo(Resources.V3.ROUTE_TYPE_URL);
        requests.onNext(routes(CURL_1, routeNames)
                .setVersionInfo(openRoutes.getVersionInfo())
                .setResponseNonce(openRoutes.getNonce())
                .build());

        controlPlane.apply(
                FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", "get-only")
                        + FailClosedOnNackTest.routeGroup("get-only", "/get")));
        DiscoveryResponse narrowed = next(responses);
        assertThat(narrowed.getTypeUrl())
                .as("a narrowing by route group changes the route tables only")
                .isEqualTo(Resources.V3.ROUTE_TYPE_URL);
        assertThat(narrowed.getVersionInfo()).isNotEqualTo(openRoutes.getVersionInfo());

        // Envoy's NACK names the version it still runs and the nonce of the response it rejects.
        requests.onNext(nack(routes(CURL_1, routeNames), narrowed, openRoutes.getVersionInfo()));
        DiscoveryResponse withoutPolicy = next(responses);
        assertThat(withoutPolicy.getTypeUrl()).isEqualTo(Resources.V3.LISTENER_TYPE_URL);
        assertThat(withoutPolicy.getVersionInfo())
                .as("never the rejected version again")
                .isNotEqualTo(open.getVersionInfo())
                .isEqualTo(controlPlane
                        .served(CURL)
                        .orElseThrow()
                        .resources()
                        .versions()
                        .listeners());
        DiscoveryResponse withoutPolicyRoutes = next(responses);
        assertThat(withoutPolicyRoutes.getTypeUrl()).isEqualTo(Resources.V3.ROUTE_TYPE_URL);
        assertThat(withoutPolicyRoutes.getVersionInfo())
                .as("the retired route table, deny-all, replaces the rejected one")
                .isNotIn(narrowed.getVersionInfo(), openRoutes.getVersionInfo());
        assertThat(controlPlane.quarantined())
                .extracting(q -> q.policy().toString())
                .containsExactly("Egress curl/httpbin-80");

        requests.onNext(nack(listeners(CURL_1), withoutPolicy, open.getVersionInfo()));
        DiscoveryResponse denyAll = next(responses);
        assertThat(controlPlane.served(CURL).orElseThrow().model()).isEqualTo(new SidecarEgressModel.DenyAll(CURL));
        assertThat(denyAll.getVersionInfo())
                .isEqualTo(controlPlane
                        .served(CURL)
                        .orElseThrow()
                        .resources()
                        .versions()
                        .listeners());

        requests.onNext(nack(listeners(CURL_1), denyAll, open.getVersionInfo()));
        assertThat(responses.poll(2, TimeUnit.SECONDS))
                .as("a rejected deny-all is not sent again")
                .isNull();

        controlPlane.apply(
                FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", "get-only")
                        + FailClosedOnNackTest.routeGroup("get-only", "/get/?")));
        DiscoveryResponse changed = next(responses);
        assertThat(changed.getVersionInfo())
                .as("the next thing sent is the next snapshot")
                .isEqualTo(controlPlane
                        .served(CURL)
                        .orElseThrow()
                        .resources()
                        .versions()
                        .listeners())
                .isNotEqualTo(denyAll.getVersionInfo());
        assertThat(registry.sidecars().get(0).types().get("Listener").nacks()).isEqualTo(2);
        assertThat(registry.sidecars().get(0).types().get("RouteConfiguration").nacks())
                .isEqualTo(1);
        requests.onCompleted();
    }

    @Test
    void aSidecarReconnectingWithTheServedVersionIsUpToDateAndIsSentNothing() throws Exception {
        // TCP only: no route tables, which Envoy re-requests by name on a new stream (and is re-sent).
        controlPlane.apply(FailClosedOnNackTest.update("---\n"
                + io.portcullis.testfixtures.EgressManifest.named("db-5432")
                        .ipAddress("10.1.2.0/24")
                        .port(5432, "tcp")
                        .yaml()));
        String served = controlPlane.current(CURL).resources().version();
        var versions = controlPlane.current(CURL).resources().versions();
        try (var debug =
                new io.portcullis.debug.DebugEndpoint(new InetSocketAddress("127.0.0.1", 0), controlPlane, registry)) {
            debug.start();
            BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
            StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(collect(responses, new LinkedBlockingQueue<>()));
            // Envoy after a control plane restart: its first request per type names the version it runs, no nonce.
            requests.onNext(DiscoveryRequest.newBuilder()
                    .setNode(SidecarBootstrap.node(SidecarNodeId.parse(CURL_1)))
                    .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
                    .setVersionInfo(versions.clusters())
                    .build());
            requests.onNext(
                    listeners(CURL_1).setVersionInfo(versions.listeners()).build());

            com.fasterxml.jackson.databind.JsonNode sidecar = await().atMost(Duration.ofSeconds(10))
                    .until(
                            () -> {
                                var list = new com.fasterxml.jackson.databind.ObjectMapper()
                                        .readTree(java.net.http.HttpClient.newHttpClient()
                                                .send(
                                                        java.net.http.HttpRequest.newBuilder(
                                                                        java.net.URI.create("http://127.0.0.1:"
                                                                                + debug.address()
                                                                                        .getPort() + "/debug/sidecars"))
                                                                .build(),
                                                        java.net.http.HttpResponse.BodyHandlers.ofString())
                                                .body());
                                return list.size() == 1 ? list.get(0) : null;
                            },
                            s -> s != null && s.get("upToDate").asBoolean());
            assertThat(sidecar.get("ackedVersion").asText()).isEqualTo(served);
            assertThat(sidecar.get("servedVersion").asText()).isEqualTo(served);
            assertThat(sidecar.get("servedTypeVersions").get("Listener").asText())
                    .isEqualTo(versions.listeners());
            assertThat(sidecar.get("types").get("Cluster").get("served").asText())
                    .isEqualTo(versions.clusters());
            assertThat(sidecar.get("syncState").asText())
                    .as("what proxy-status shows")
                    .isEqualTo("SYNCED");
            assertThat(responses.poll(1, TimeUnit.SECONDS))
                    .as("it already runs the served version")
                    .isNull();
            requests.onCompleted();
        }
    }

    private static final String CURL_1 = "sidecar~curl~curl~curl-1";
    private static final io.portcullis.input.ServiceAccountRef CURL =
            new io.portcullis.input.ServiceAccountRef("curl", "curl");

    private static DiscoveryRequest.Builder listeners(String nodeId) {
        return DiscoveryRequest.newBuilder()
                .setNode(SidecarBootstrap.node(SidecarNodeId.parse(nodeId)))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL);
    }

    private static DiscoveryRequest.Builder routes(String nodeId, List<String> names) {
        return DiscoveryRequest.newBuilder()
                .setNode(SidecarBootstrap.node(SidecarNodeId.parse(nodeId)))
                .setTypeUrl(Resources.V3.ROUTE_TYPE_URL)
                .addAllResourceNames(names);
    }

    private static DiscoveryRequest nack(
            DiscoveryRequest.Builder request, DiscoveryResponse rejected, String stillRunning) {
        return request.setVersionInfo(stillRunning)
                .setResponseNonce(rejected.getNonce())
                .setErrorDetail(Status.newBuilder().setCode(3).setMessage("rejected " + rejected.getVersionInfo()))
                .build();
    }

    private static DiscoveryResponse next(BlockingQueue<DiscoveryResponse> responses) throws InterruptedException {
        DiscoveryResponse response = responses.poll(10, TimeUnit.SECONDS);
        assertThat(response).as("a response within 10s").isNotNull();
        return response;
    }

    @Test
    void sidecarsOfOneIdentityShareOneSnapshot() throws Exception {
        BlockingQueue<DiscoveryResponse> first = new LinkedBlockingQueue<>();
        BlockingQueue<DiscoveryResponse> second = new LinkedBlockingQueue<>();
        var streamA = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(collect(first, new LinkedBlockingQueue<>()));
        var streamB = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(collect(second, new LinkedBlockingQueue<>()));
        streamA.onNext(DiscoveryRequest.newBuilder()
                .setNode(SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-1")))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .build());
        streamB.onNext(DiscoveryRequest.newBuilder()
                .setNode(SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-2")))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .build());

        DiscoveryResponse a = first.poll(10, TimeUnit.SECONDS);
        DiscoveryResponse b = second.poll(10, TimeUnit.SECONDS);
        assertThat(a).isNotNull();
        assertThat(b).isNotNull();
        assertThat(b.getVersionInfo()).isEqualTo(a.getVersionInfo());
        assertThat(b.getResourcesList()).isEqualTo(a.getResourcesList());
        assertThat(controlPlane.allServed())
                .containsOnlyKeys(new io.portcullis.input.ServiceAccountRef("curl", "curl"));
        await().atMost(Duration.ofSeconds(10)).until(() -> registry.sidecars().size() == 2);
        streamA.onCompleted();
        streamB.onCompleted();
    }

    /**
     * What a sidecar does after its control plane restarted, or after failing over to another one: its
     * first requests on the new stream name the versions it runs, with no nonce.
     */
    @Test
    void aSidecarReconnectingWithTheServedVersionIsUpToDateAndIsSentOnlyWhatItLacks() throws Exception {
        var curl = new io.portcullis.input.ServiceAccountRef("curl", "curl");
        controlPlane.ensureServed(curl);
        controlPlane.awaitIdle(); // no policy names curl/curl: its first config is built on the first-config thread
        String served =
                controlPlane.served(curl).orElseThrow().resources().versions().listeners();
        String servedClusters =
                controlPlane.served(curl).orElseThrow().resources().versions().clusters();
        BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(collect(responses, new LinkedBlockingQueue<>()));
        Node node = SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-1"));

        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .setVersionInfo(served)
                .build());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !registry.sidecars().isEmpty()
                        && served.equals(registry.sidecars().get(0).ackedListenerVersion()));
        // Clusters from an older version: those must be sent. Requests of a stream are handled in order and
        // an immediate answer is sent while handling its request, so a listener answer would come first.
        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
                .setVersionInfo("0123456789abcdef")
                .build());

        DiscoveryResponse first = responses.poll(10, TimeUnit.SECONDS);
        assertThat(first).isNotNull();
        assertThat(first.getTypeUrl())
                .as("the listeners it runs are not re-sent")
                .isEqualTo(Resources.V3.CLUSTER_TYPE_URL);
        assertThat(first.getVersionInfo()).isEqualTo(servedClusters);
        assertThat(registry.sidecars().get(0).types().get("Cluster").ackedVersion())
                .as("a version named without a nonce is what the sidecar runs, until it ACKs")
                .isEqualTo("0123456789abcdef");
        requests.onCompleted();
    }

    @Test
    void aNodeIdPortcullisDidNotIssueIsRefused() throws Exception {
        BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(collect(new LinkedBlockingQueue<>(), errors));
        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId("some-envoy"))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .build());

        Throwable error = errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(io.grpc.Status.fromThrowable(error).getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
        assertThat(registry.sidecars()).isEmpty();
    }

    private static StreamObserver<DiscoveryResponse> collect(
            BlockingQueue<DiscoveryResponse> responses, BlockingQueue<Throwable> errors) {
        return new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse value) {
                responses.add(value);
            }

            @Override
            public void onError(Throwable t) {
                errors.add(t);
            }

            @Override
            public void onCompleted() {}
        };
    }
}
