package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.runtime.v3.Runtime;
import io.envoyproxy.envoy.service.runtime.v3.RuntimeDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import io.portcullis.identity.XdsServerTls;
import io.portcullis.metrics.ControlPlaneMetrics;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The RTDS service on the xDS port, over mutual TLS, spoken to as Envoy speaks it: the runtime layer carries the
 * MeshConfig's sample rate, an ACK and a NACK are told apart by nonce and error detail, a new rate is pushed to the
 * open stream, and a stream whose node does not match its certificate gets nothing. The real Envoy's side is in
 * {@link SidecarRuntimeOverRtdsTest}.
 */
class RuntimeDiscoveryTest {

    private static final String TRUST_DOMAIN = "cluster.local";
    private static final Node CURL_NODE = SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-1"));

    @TempDir
    Path tmp;

    private CertificateAuthority ca;
    private EgressControlPlane controlPlane;
    private XdsServer server;
    private ManagedChannel channel;
    private ListAppender<ILoggingEvent> log;

    @BeforeEach
    void start() throws Exception {
        ca = CertificateAuthority.inDirectory(tmp.resolve("ca"), Clock.systemUTC());
        controlPlane = new EgressControlPlane();
        controlPlane.apply(FailClosedOnNackTest.update(meshConfig(5)));
        server = new XdsServer(
                        new InetSocketAddress("127.0.0.1", 0),
                        controlPlane,
                        new SidecarRegistry(controlPlane, Clock.systemUTC()),
                        new XdsServerTls(ca, List.of("127.0.0.1"), Duration.ofHours(1), TRUST_DOMAIN))
                .start();
        log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(RuntimeDiscovery.class)).addAppender(log);
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger(RuntimeDiscovery.class)).detachAppender(log);
        if (channel != null) {
            channel.shutdownNow();
        }
        server.close();
    }

    @Test
    void aSidecarGetsTheMeshConfigsRateAcksItAndIsPushedTheNextRateOnTheSameStream() throws Exception {
        channel = tlsChannel(workload("curl", "curl"));
        Stream stream = Stream.open(channel);

        stream.request(CURL_NODE, "", "");
        DiscoveryResponse first = stream.next();
        assertThat(rate(first)).isEqualTo(5);
        assertThat(first.getTypeUrl()).isEqualTo(DecisionSamplingLayer.TYPE_URL);
        stream.request(CURL_NODE, first.getVersionInfo(), first.getNonce());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> first.getVersionInfo()
                        .equals(controlPlane.runtimeDiscovery().ackedVersions().get(CURL_NODE.getId())));

        controlPlane.apply(FailClosedOnNackTest.update(meshConfig(40)));

        DiscoveryResponse second = stream.next();
        assertThat(rate(second)).isEqualTo(40);
        assertThat(second.getVersionInfo()).isNotEqualTo(first.getVersionInfo());
        assertThat(second.getNonce()).isNotEqualTo(first.getNonce());
    }

    @Test
    void aNackIsCountedAndLoggedWithTheSidecarAndEnvoysMessageAndNothingIsResent() throws Exception {
        channel = tlsChannel(workload("curl", "curl"));
        Stream stream = Stream.open(channel);
        stream.request(CURL_NODE, "", "");
        DiscoveryResponse first = stream.next();

        stream.requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(CURL_NODE)
                .setTypeUrl(DecisionSamplingLayer.TYPE_URL)
                .addResourceNames(SidecarBootstrap.RTDS_LAYER)
                .setResponseNonce(first.getNonce())
                .setErrorDetail(Status.newBuilder().setCode(3).setMessage("bad runtime value"))
                .build());

        await().atMost(Duration.ofSeconds(10)).until(() -> nacks() == 1.0);
        assertThat(log.list)
                .filteredOn(e -> e.getFormattedMessage().contains("REJECTED runtime layer"))
                .singleElement()
                .satisfies(e -> assertThat(e.getFormattedMessage())
                        .contains("sidecar~curl~curl~curl-1")
                        .contains("curl/curl")
                        .contains("bad runtime value"));
        assertThat(controlPlane.runtimeDiscovery().ackedVersions()).isEmpty();
        assertThat(stream.responses.poll(300, TimeUnit.MILLISECONDS))
                .as("a NACK is not answered with the same layer again")
                .isNull();
    }

    @Test
    void aStreamWhoseNodeClaimsAnotherIdentityThanItsCertificateIsRefusedAndGetsNothing() throws Exception {
        channel = tlsChannel(workload("curl", "sleep"));
        Stream stream = Stream.open(channel);

        stream.request(CURL_NODE, "", "");

        Throwable error = stream.errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).as("the stream is closed").isNotNull();
        assertThat(io.grpc.Status.fromThrowable(error).getCode()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
        assertThat(stream.responses).isEmpty();
        assertThat(log.list)
                .filteredOn(e -> e.getFormattedMessage().startsWith("refusing RTDS stream"))
                .singleElement()
                .satisfies(e -> assertThat(e.getFormattedMessage())
                        .contains("claims curl/curl")
                        .contains("spiffe://cluster.local/ns/curl/sa/sleep"));
    }

    @Test
    void aStreamThatSwitchesToAnotherNodeIdIsCutOff() throws Exception {
        channel = tlsChannel(workload("curl", "curl"));
        Stream stream = Stream.open(channel);
        stream.request(CURL_NODE, "", "");
        DiscoveryResponse first = stream.next();

        stream.request(
                SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-2")),
                first.getVersionInfo(),
                first.getNonce());

        Throwable error = stream.errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(io.grpc.Status.fromThrowable(error).getCode()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
        assertThat(controlPlane.runtimeDiscovery().ackedVersions()).isEmpty();
    }

    @Test
    void aStreamAskingForAnotherLayerIsRefusedWithTheNameToUse() throws Exception {
        channel = tlsChannel(workload("curl", "curl"));
        Stream stream = Stream.open(channel);

        stream.requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(CURL_NODE)
                .setTypeUrl(DecisionSamplingLayer.TYPE_URL)
                .addResourceNames("some_other_layer")
                .build());

        Throwable error = stream.errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(io.grpc.Status.fromThrowable(error).getDescription())
                .contains("some_other_layer")
                .contains(SidecarBootstrap.RTDS_LAYER);
        assertThat(stream.responses).isEmpty();
    }

    private double nacks() {
        return controlPlane
                .metrics()
                .registry()
                .get(ControlPlaneMetrics.XDS_NACKS)
                .tag("type", RuntimeDiscovery.TYPE)
                .counter()
                .count();
    }

    private static int rate(DiscoveryResponse response) throws Exception {
        assertThat(response.getResourcesCount()).isEqualTo(1);
        Runtime runtime = response.getResources(0).unpack(Runtime.class);
        assertThat(runtime.getName()).isEqualTo(SidecarBootstrap.RTDS_LAYER);
        return (int) runtime.getLayer()
                .getFieldsOrThrow(SidecarContract.DECISION_SAMPLE_RUNTIME_KEY)
                .getNumberValue();
    }

    private IssuedCertificate workload(String namespace, String serviceAccount) throws Exception {
        return ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, namespace, serviceAccount), Duration.ofHours(1));
    }

    private ManagedChannel tlsChannel(IssuedCertificate cert) throws Exception {
        return NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .sslContext(GrpcSslContexts.configure(SslContextBuilder.forClient()
                                .keyManager(cert.privateKey(), cert.certificate())
                                .trustManager(ca.certificate()))
                        .build())
                .build();
    }

    static String meshConfig(int allowedSamplePercent) {
        return """
                apiVersion: config.flomesh.io/v1alpha3
                kind: MeshConfig
                metadata:
                  name: fsm-mesh-config
                  namespace: fsm-system
                spec:
                  featureFlags:
                    enableEgressPolicy: true
                  traffic:
                    enableEgress: false
                  observability:
                    egressDecisionLog:
                      allowedSamplePercent: %d
                """.formatted(allowedSamplePercent);
    }

    private record Stream(
            StreamObserver<DiscoveryRequest> requests,
            BlockingQueue<DiscoveryResponse> responses,
            BlockingQueue<Throwable> errors) {

        static Stream open(ManagedChannel channel) {
            BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
            BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
            StreamObserver<DiscoveryRequest> requests = RuntimeDiscoveryServiceGrpc.newStub(channel)
                    .streamRuntime(new StreamObserver<>() {
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
                    });
            return new Stream(requests, responses, errors);
        }

        /** As Envoy asks: the layer by name, with the version and nonce it answers (empty on the first request). */
        void request(Node node, String version, String nonce) {
            requests.onNext(DiscoveryRequest.newBuilder()
                    .setNode(node)
                    .setTypeUrl(DecisionSamplingLayer.TYPE_URL)
                    .addResourceNames(SidecarBootstrap.RTDS_LAYER)
                    .setVersionInfo(version)
                    .setResponseNonce(nonce)
                    .build());
        }

        DiscoveryResponse next() throws InterruptedException {
            DiscoveryResponse response = responses.poll(10, TimeUnit.SECONDS);
            assertThat(response).as("an RTDS response within 10 s").isNotNull();
            return response;
        }
    }
}
