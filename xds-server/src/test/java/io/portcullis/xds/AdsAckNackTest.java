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
import io.portcullis.source.SourceUpdate;
import io.portcullis.model.ResourceSnapshot;
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
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
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
        Node node = Node.newBuilder().setId("sidecar~curl~curl~curl-1").build();
        requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build());

        DiscoveryResponse listeners = responses.poll(10, TimeUnit.SECONDS);
        assertThat(listeners).as("the identity's snapshot is built on first contact and sent").isNotNull();
        assertThat(listeners.getVersionInfo()).isEqualTo(controlPlane.served(
                new io.portcullis.model.ServiceAccountRef("curl", "curl")).orElseThrow().resources().version());

        requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .setVersionInfo(listeners.getVersionInfo()).setResponseNonce(listeners.getNonce()).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> listeners.getVersionInfo().equals(
                registry.sidecars().get(0).ackedListenerVersion()));
        assertThat(registry.sidecars().get(0).identity().toString()).isEqualTo("curl/curl");

        requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                .setVersionInfo(listeners.getVersionInfo()).setResponseNonce(listeners.getNonce())
                .setErrorDetail(Status.newBuilder().setCode(3).setMessage("duplicate filter chain match")).build());
        await().atMost(Duration.ofSeconds(10)).until(() ->
                "duplicate filter chain match".equals(registry.sidecars().get(0).types().get("Listener").nackMessage()));
        requests.onCompleted();
    }

    @Test
    void sidecarsOfOneIdentityShareOneSnapshot() throws Exception {
        BlockingQueue<DiscoveryResponse> first = new LinkedBlockingQueue<>();
        BlockingQueue<DiscoveryResponse> second = new LinkedBlockingQueue<>();
        var streamA = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(collect(first, new LinkedBlockingQueue<>()));
        var streamB = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(collect(second, new LinkedBlockingQueue<>()));
        streamA.onNext(DiscoveryRequest.newBuilder().setNode(Node.newBuilder().setId("sidecar~curl~curl~curl-1"))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build());
        streamB.onNext(DiscoveryRequest.newBuilder().setNode(Node.newBuilder().setId("sidecar~curl~curl~curl-2"))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build());

        DiscoveryResponse a = first.poll(10, TimeUnit.SECONDS);
        DiscoveryResponse b = second.poll(10, TimeUnit.SECONDS);
        assertThat(a).isNotNull();
        assertThat(b).isNotNull();
        assertThat(b.getVersionInfo()).isEqualTo(a.getVersionInfo());
        assertThat(b.getResourcesList()).isEqualTo(a.getResourcesList());
        assertThat(controlPlane.allServed()).containsOnlyKeys(new io.portcullis.model.ServiceAccountRef("curl", "curl"));
        await().atMost(Duration.ofSeconds(10)).until(() -> registry.sidecars().size() == 2);
        streamA.onCompleted();
        streamB.onCompleted();
    }

    @Test
    void aNodeIdPortcullisDidNotIssueIsRefused() throws Exception {
        BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(collect(new LinkedBlockingQueue<>(), errors));
        requests.onNext(DiscoveryRequest.newBuilder().setNode(Node.newBuilder().setId("some-envoy"))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build());

        Throwable error = errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(io.grpc.Status.fromThrowable(error).getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
        assertThat(registry.sidecars()).isEmpty();
    }

    private static StreamObserver<DiscoveryResponse> collect(BlockingQueue<DiscoveryResponse> responses,
                                                             BlockingQueue<Throwable> errors) {
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
            public void onCompleted() {
            }
        };
    }
}
