package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import io.portcullis.identity.XdsServerTls;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.source.SourceUpdate;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
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
 * Real gRPC over real TLS: the xDS server requires a client certificate from the mesh CA, and a sidecar
 * gets only the config of the ServiceAccount its certificate names.
 */
class XdsMutualTlsTest {

    private static final String TRUST_DOMAIN = "cluster.local";
    private static final Node CURL_NODE = SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-1"));

    @TempDir
    Path tmp;

    private CertificateAuthority ca;
    private EgressControlPlane controlPlane;
    private SidecarRegistry registry;
    private XdsServer server;
    private ManagedChannel channel;
    private ListAppender<ILoggingEvent> log;

    @BeforeEach
    void start() throws Exception {
        ca = CertificateAuthority.inDirectory(tmp.resolve("ca"), Clock.systemUTC());
        controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
        registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        server = new XdsServer(
                        new InetSocketAddress("127.0.0.1", 0),
                        controlPlane,
                        registry,
                        new XdsServerTls(ca, List.of("127.0.0.1"), Duration.ofHours(1), TRUST_DOMAIN))
                .start();
        log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(SidecarRegistry.class)).addAppender(log);
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger(SidecarRegistry.class)).detachAppender(log);
        if (channel != null) {
            channel.shutdownNow();
        }
        server.close();
    }

    /**
     * Also proves the interceptor's Context reaches java-control-plane's callbacks: SidecarRegistry
     * refuses a call whose Context carries no authentication.
     */
    @Test
    void aSidecarWhoseCertificateNamesItsServiceAccountGetsItsConfig() throws Exception {
        channel = tlsChannel(ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "curl"), Duration.ofHours(1)));

        Stream stream = Stream.open(channel);
        stream.request(CURL_NODE);

        assertThat(stream.responses.poll(10, TimeUnit.SECONDS))
                .as("listeners for curl/curl")
                .isNotNull();
        assertThat(registry.sidecars())
                .singleElement()
                .satisfies(s -> assertThat(s.identity()).isEqualTo(new ServiceAccountRef("curl", "curl")));
    }

    @Test
    void aNodeIdClaimingAnotherServiceAccountThanTheCertificateGetsNothingAndTheLogSaysWhy() throws Exception {
        channel = tlsChannel(ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "sleep"), Duration.ofHours(1)));

        Stream stream = Stream.open(channel);
        stream.request(CURL_NODE);

        Throwable error = stream.errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(stream.responses).isEmpty();
        assertThat(registry.sidecars()).isEmpty();
        assertThat(controlPlane.allServed())
                .as("curl/curl's config was never even built")
                .isEmpty();
        assertThat(log.list)
                .filteredOn(e -> e.getFormattedMessage().startsWith("refusing xDS stream"))
                .singleElement()
                .satisfies(e -> assertThat(e.getFormattedMessage())
                        .contains("node id 'sidecar~curl~curl~curl-1' claims curl/curl")
                        .contains("spiffe://cluster.local/ns/curl/sa/sleep")
                        .contains("127.0.0.1:"));
    }

    @Test
    void aNodeIdInAnotherNamespaceThanTheCertificateIsRefused() throws Exception {
        channel = tlsChannel(ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "shop", "curl"), Duration.ofHours(1)));

        Stream stream = Stream.open(channel);
        stream.request(CURL_NODE);

        assertThat(Status.fromThrowable(stream.errors.poll(10, TimeUnit.SECONDS))
                        .getCode())
                .isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(stream.responses).isEmpty();
    }

    @Test
    void aCertificateOfAnotherTrustDomainIsRefused() throws Exception {
        channel = tlsChannel(ca.issueWorkload(new SpiffeId("other.example", "curl", "curl"), Duration.ofHours(1)));

        Stream stream = Stream.open(channel);
        stream.request(CURL_NODE);

        Throwable error = stream.errors.poll(10, TimeUnit.SECONDS);
        assertThat(Status.fromThrowable(error).getDescription()).contains("outside trust domain cluster.local");
        assertThat(stream.responses).isEmpty();
    }

    @Test
    void aStreamThatSwitchesToAnotherNodeIdIsCutOff() throws Exception {
        channel = tlsChannel(ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "sleep"), Duration.ofHours(1)));
        Stream stream = Stream.open(channel);
        stream.request(SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~sleep~sleep-1")));
        assertThat(stream.responses.poll(10, TimeUnit.SECONDS))
                .as("its own config")
                .isNotNull();

        stream.request(CURL_NODE);

        assertThat(Status.fromThrowable(stream.errors.poll(10, TimeUnit.SECONDS))
                        .getCode())
                .isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(controlPlane.allServed()).containsOnlyKeys(new ServiceAccountRef("curl", "sleep"));
    }

    @Test
    void aTlsClientWithoutCertificateCannotOpenAStream() throws Exception {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .sslContext(GrpcSslContexts.forClient()
                        .trustManager(ca.certificate())
                        .build())
                .build();

        assertRefusedBeforeAnyCall();
    }

    @Test
    void aPlaintextClientCannotOpenAStream() throws Exception {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();

        assertRefusedBeforeAnyCall();
    }

    @Test
    void anExpiredCertificateIsRefused() throws Exception {
        // The same CA (shared directory), issuing as if two days ago: the certificate expired yesterday.
        CertificateAuthority past = CertificateAuthority.inDirectory(
                tmp.resolve("ca"), Clock.fixed(Instant.now().minus(Duration.ofDays(2)), ZoneOffset.UTC));
        channel = tlsChannel(past.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "curl"), Duration.ofHours(1)));

        assertRefusedBeforeAnyCall();
    }

    @Test
    void aCertificateFromAnotherCaIsRefused() throws Exception {
        CertificateAuthority foreign = CertificateAuthority.generate(Clock.systemUTC());
        IssuedCertificate cert = foreign.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "curl"), Duration.ofHours(1));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .sslContext(GrpcSslContexts.configure(SslContextBuilder.forClient()
                                .keyManager(cert.privateKey(), cert.certificate())
                                .trustManager(ca.certificate()))
                        .build())
                .build();

        assertRefusedBeforeAnyCall();
    }

    @Test
    void theSidecarRefusesAServerWhoseCertificateDoesNotNameTheHostItDialled() throws Exception {
        // The server's certificate names 127.0.0.1; dialling it as "xds.example" must fail on the client side.
        IssuedCertificate cert = ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "curl"), Duration.ofHours(1));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .overrideAuthority("xds.example")
                .sslContext(GrpcSslContexts.configure(SslContextBuilder.forClient()
                                .keyManager(cert.privateKey(), cert.certificate())
                                .trustManager(ca.certificate()))
                        .build())
                .build();

        assertRefusedBeforeAnyCall();
    }

    private void assertRefusedBeforeAnyCall() throws InterruptedException {
        Stream stream = Stream.open(channel);
        stream.request(CURL_NODE);

        Throwable error = stream.errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).as("the stream fails").isNotNull();
        assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(stream.responses).isEmpty();
        await().during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(2))
                .until(() -> registry.sidecars().isEmpty());
        assertThat(controlPlane.allServed()).isEmpty();
    }

    private ManagedChannel tlsChannel(IssuedCertificate cert) throws Exception {
        return NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .sslContext(GrpcSslContexts.configure(SslContextBuilder.forClient()
                                .keyManager(cert.privateKey(), cert.certificate())
                                .trustManager(ca.certificate()))
                        .build())
                .build();
    }

    private record Stream(
            StreamObserver<DiscoveryRequest> requests,
            BlockingQueue<DiscoveryResponse> responses,
            BlockingQueue<Throwable> errors) {

        static Stream open(ManagedChannel channel) {
            BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
            BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
            StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(new StreamObserver<>() {
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

        void request(Node node) {
            requests.onNext(DiscoveryRequest.newBuilder()
                    .setNode(node)
                    .setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                    .build());
        }
    }
}
