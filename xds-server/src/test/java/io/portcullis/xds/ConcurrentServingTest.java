package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.metrics.ControlPlaneMetrics;
import io.portcullis.testfixtures.EgressManifest;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a sidecar sees of the control plane's threading, over a real ADS stream: its first config never waits
 * for a config change in progress, a connect storm does not cost a thread per sidecar, and snapshots are ready
 * before anyone asks.
 */
class ConcurrentServingTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");

    private EgressControlPlane controlPlane;
    private XdsServer server;
    private ManagedChannel channel;
    private final List<StreamObserver<DiscoveryRequest>> streams = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        controlPlane = new EgressControlPlane();
        server = new XdsServer(
                        new InetSocketAddress("127.0.0.1", 0),
                        controlPlane,
                        new SidecarRegistry(controlPlane, Clock.systemUTC()))
                .start();
        // The client's callbacks run on its event loop, so every thread the test counts is the server's.
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .directExecutor()
                .build();
    }

    @AfterEach
    void stop() {
        streams.forEach(StreamObserver::onCompleted);
        channel.shutdownNow();
        server.close();
    }

    @Test
    void everyIdentityAPolicyNamesHasItsSnapshotInTheCacheBeforeAnySidecarAsks() {
        controlPlane.apply(FailClosedOnNackTest.update(policies(20, 3)));

        for (int i = 0; i < 20; i++) {
            ServiceAccountRef identity = identity(i);
            assertThat(controlPlane.cache().getSnapshot(identity))
                    .as("prepared for %s", identity)
                    .isNotNull();
        }
        assertThat(controlPlane.served(identity(0)))
                .as("prepared is not 'served': no sidecar asked")
                .isEmpty();
    }

    @Test
    void sidecarsGetTheirFirstConfigWhileAConfigChangeIsStillInProgress() throws Exception {
        controlPlane.apply(FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", null)));
        // Stands for a slow reload: the translation coordinator is busy until released. Under the old global
        // lock a first request waited for exactly this.
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean holding = new AtomicBoolean();
        controlPlane.onEvaluation(evaluation -> {
            if (holding.compareAndSet(false, true)) {
                return; // the call at registration
            }
            awaitQuietly(release);
        });
        Thread reload = new Thread(() -> controlPlane.apply(
                FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", null)
                        + FailClosedOnNackTest.egress("example-80", "example.com", null))));
        reload.start();
        try {
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> controlPlane.cache().getSnapshot(CURL) != null
                            && controlPlane
                                    .current(CURL)
                                    .resources()
                                    .routes()
                                    .toString()
                                    .contains("example.com"));

            DiscoveryResponse prepared = firstListeners("sidecar~curl~curl~curl-1");
            DiscoveryResponse unnamed = firstListeners("sidecar~nobody~here~here-1");

            assertThat(reload.isAlive())
                    .as("the config change is still in progress")
                    .isTrue();
            assertThat(prepared.getVersionInfo())
                    .isEqualTo(controlPlane
                            .served(CURL)
                            .orElseThrow()
                            .resources()
                            .versions()
                            .listeners());
            assertThat(defaultChain(unnamed))
                    .as("no policy names nobody/here: deny")
                    .isEqualTo("deny");
        } finally {
            release.countDown();
            reload.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertThat(reload.isAlive()).isFalse();
    }

    @Test
    void sidecarsThatConnectBeforeTheFirstConfigGetNothingUntilItIsAppliedThenTheirIdentitysOwn() throws Exception {
        // serve opens the port before it reads the config: the empty config in force until then (deny-all or
        // passthrough) is nobody's, and curl/curl's policies must be all it ever gets.
        BlockingQueue<DiscoveryResponse> named = listenersFor("sidecar~curl~curl~curl-1");
        BlockingQueue<DiscoveryResponse> unnamed = listenersFor("sidecar~nobody~here~here-1");
        await().atMost(Duration.ofSeconds(20)).until(() -> connectedSidecars() == 2);
        controlPlane.awaitIdle();

        assertThat(controlPlane.cache().getSnapshot(CURL))
                .as("nothing built for curl/curl")
                .isNull();
        assertThat(controlPlane.cache().getSnapshot(new ServiceAccountRef("nobody", "here")))
                .as("nothing built for nobody/here")
                .isNull();
        assertThat(named.poll(200, TimeUnit.MILLISECONDS))
                .as("curl/curl answered")
                .isNull();
        assertThat(unnamed.poll(200, TimeUnit.MILLISECONDS))
                .as("nobody/here answered")
                .isNull();

        controlPlane.apply(FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", null)));

        DiscoveryResponse curl = named.poll(20, TimeUnit.SECONDS);
        DiscoveryResponse nobody = unnamed.poll(20, TimeUnit.SECONDS);
        assertThat(curl).as("curl/curl's first listeners").isNotNull();
        assertThat(nobody).as("nobody/here's first listeners").isNotNull();
        assertThat(curl.getVersionInfo())
                .as("curl/curl's first config is the one its policy gives")
                .isEqualTo(controlPlane
                        .served(CURL)
                        .orElseThrow()
                        .resources()
                        .versions()
                        .listeners());
        assertThat(controlPlane.served(CURL).orElseThrow().resources().routes().toString())
                .contains("httpbin.org");
        assertThat(defaultChain(nobody)).as("no policy names nobody/here: deny").isEqualTo("deny");
    }

    @Test
    void anIdentityNoPolicyNamesIsServedDenyAllOnItsFirstRequest() throws Exception {
        controlPlane.apply(FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", null)));

        DiscoveryResponse listeners = firstListeners("sidecar~nobody~here~here-1");

        assertThat(defaultChain(listeners)).isEqualTo("deny");
        ServiceAccountRef nobody = new ServiceAccountRef("nobody", "here");
        SidecarEgressModel model = controlPlane.served(nobody).orElseThrow().model();
        assertThat(model).as("enforced").isInstanceOf(SidecarEgressModel.PolicyEnforced.class);
        assertThat(((SidecarEgressModel.PolicyEnforced) model).ports())
                .as("no port open")
                .isEmpty();
        assertThat(listeners.getVersionInfo())
                .isEqualTo(controlPlane
                        .served(nobody)
                        .orElseThrow()
                        .resources()
                        .versions()
                        .listeners());
    }

    @Test
    void twoHundredConcurrentStreamsAreServedByTheBoundedCallPool() throws Exception {
        controlPlane.apply(FailClosedOnNackTest.update(policies(10, 2)));
        int threadsBefore = Thread.activeCount();
        BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        int sidecars = 200;
        for (int s = 0; s < sidecars; s++) {
            // 20 identities: ten a policy names (prepared), ten none names (deny-all, built on first request).
            ServiceAccountRef identity = identity(s % 20);
            String nodeId = "sidecar~" + identity.namespace() + "~" + identity.name() + "~pod-" + s;
            StreamObserver<DiscoveryRequest> requests =
                    AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(collect(responses));
            streams.add(requests);
            requests.onNext(listenerRequest(nodeId));
        }

        List<DiscoveryResponse> all = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            responses.drainTo(all);
            return all.size() >= sidecars;
        });

        assertThat(all).hasSize(sidecars);
        long callThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("portcullis-xds-"))
                .count();
        assertThat(callThreads).isBetween(1L, (long) XdsServer.callThreads());
        assertThat(Thread.activeCount() - threadsBefore)
                .as(
                        "threads added for %d open streams: %s",
                        sidecars,
                        Thread.getAllStackTraces().keySet().stream()
                                .map(Thread::getName)
                                .sorted()
                                .toList())
                .isLessThan(50);
    }

    private DiscoveryResponse firstListeners(String nodeId) throws InterruptedException {
        BlockingQueue<DiscoveryResponse> responses = listenersFor(nodeId);
        DiscoveryResponse response = responses.poll(20, TimeUnit.SECONDS);
        assertThat(response).as("first listeners for %s", nodeId).isNotNull();
        return response;
    }

    private double connectedSidecars() {
        var gauge = controlPlane
                .metrics()
                .registry()
                .find(ControlPlaneMetrics.SIDECARS_CONNECTED)
                .gauge();
        return gauge == null ? 0 : gauge.value();
    }

    /** Opens a sidecar's stream with a wildcard LDS request; what it is answered, as it arrives. */
    private BlockingQueue<DiscoveryResponse> listenersFor(String nodeId) {
        BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests =
                AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(collect(responses));
        streams.add(requests);
        requests.onNext(listenerRequest(nodeId));
        return responses;
    }

    private static DiscoveryRequest listenerRequest(String nodeId) {
        return DiscoveryRequest.newBuilder()
                .setNode(SidecarBootstrap.node(SidecarNodeId.parse(nodeId)))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .build();
    }

    private static String defaultChain(DiscoveryResponse listeners) throws Exception {
        return listeners
                .getResources(0)
                .unpack(Listener.class)
                .getDefaultFilterChain()
                .getName();
    }

    private static StreamObserver<DiscoveryResponse> collect(BlockingQueue<DiscoveryResponse> responses) {
        return new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse response) {
                responses.add(response);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static ServiceAccountRef identity(int i) {
        return new ServiceAccountRef("team-" + (i % 10), "app-" + i);
    }

    /** {@code perIdentity} HTTP policies for each of the first {@code identities} identities. */
    static String policies(int identities, int perIdentity) {
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < identities; i++) {
            ServiceAccountRef identity = identity(i);
            for (int p = 0; p < perIdentity; p++) {
                yaml.append("---\n")
                        .append(EgressManifest.named("egress-" + i + "-" + p)
                                .namespace(identity.namespace())
                                .fromServiceAccount(identity.name(), identity.namespace())
                                .host("api-" + p + ".example.com")
                                .port(8000 + p % 7, "http")
                                .yaml());
            }
        }
        return yaml.toString();
    }
}
