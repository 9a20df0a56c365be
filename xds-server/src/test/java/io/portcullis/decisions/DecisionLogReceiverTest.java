package io.portcullis.decisions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.debug.DebugAccess;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.envoy.DecisionLog;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import io.portcullis.identity.XdsServerTls;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.source.SourceUpdate;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import io.portcullis.xds.XdsServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decisions streamed over Envoy's access log service on the xDS port, over real gRPC and real TLS, read back
 * the way an operator does: {@code /debug/decisions} and a Prometheus scrape of {@code /metrics} with the
 * debug bearer token.
 */
class DecisionLogReceiverTest {

    private static final String TRUST_DOMAIN = "cluster.local";
    private static final String TOKEN = "scrape-token";
    private static final Node CURL_NODE = SidecarBootstrap.node(SidecarNodeId.parse("sidecar~curl~curl~curl-1"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private CertificateAuthority ca;
    private XdsServer server;
    private DebugEndpoint debug;
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
        if (debug != null) {
            debug.close();
        }
    }

    @Test
    void decisionsWithoutAnIdentityTagAreRecordedUnderTheCertificatesIdentityNewestFirstAndCounted() throws Exception {
        // Sidecars send no identity tag (their config names no identity): the stream's certificate is the identity.
        startMutualTls();
        channel = tlsChannel(new SpiffeId(TRUST_DOMAIN, "curl", "curl"));

        Stream stream = Stream.open(channel);
        stream.send(StreamAccessLogsMessage.newBuilder()
                .setIdentifier(identifier(CURL_NODE, DecisionLog.ALS_LOG_NAME))
                .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder()
                        .addLogEntry(tcp(Map.of("decision", "deny", "reason", "no policy for port 5432"))))
                .build());
        stream.send(StreamAccessLogsMessage.newBuilder()
                .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                        .addLogEntry(HTTPAccessLogEntry.newBuilder()
                                .setCommonProperties(tags(Map.of("decision", "allow", "policy", "curl/httpbin-80")))
                                .setRequest(HTTPRequestProperties.newBuilder()
                                        .setAuthority("httpbin.org")
                                        .setPath("/get"))))
                .build());

        await().atMost(Duration.ofSeconds(10)).until(() -> decisions().size() == 2);
        JsonNode decisions = decisions();
        assertThat(decisions.get(0).get("decision").asText()).as("newest first").isEqualTo("allow");
        assertThat(decisions.get(0).get("identity").asText()).isEqualTo("curl/curl");
        assertThat(decisions.get(0).get("policy").asText()).isEqualTo("curl/httpbin-80");
        assertThat(decisions.get(0).get("host").asText()).isEqualTo("httpbin.org");
        assertThat(decisions.get(1).get("decision").asText()).isEqualTo("deny");
        assertThat(decisions.get(1).get("policy").isNull()).isTrue();
        assertThat(decisions.get(1).get("reason").asText()).isEqualTo("no policy for port 5432");
        assertThat(get("/debug/decisions?refused=true").body())
                .doesNotContain("\"allow\"")
                .contains("\"deny\"");

        String metrics = get("/metrics").body();
        assertThat(metrics)
                .contains("portcullis_egress_decisions_total{decision=\"deny\",identity=\"curl/curl\",policy=\"\","
                        + "protocol=\"tcp\"} 1")
                .contains("portcullis_egress_decisions_total{decision=\"allow\",identity=\"curl/curl\","
                        + "policy=\"curl/httpbin-80\",protocol=\"http\"} 1")
                .as("a missing identity tag is no problem")
                .doesNotContain("identity_mismatch");
    }

    @Test
    void aDecisionClaimingAnotherIdentityIsRecordedUnderTheProvenOneAndFlagged() throws Exception {
        startMutualTls();
        channel = tlsChannel(new SpiffeId(TRUST_DOMAIN, "curl", "curl"));

        Stream.open(channel)
                .send(StreamAccessLogsMessage.newBuilder()
                        .setIdentifier(identifier(CURL_NODE, DecisionLog.ALS_LOG_NAME))
                        .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder()
                                .addLogEntry(tcp(Map.of("decision", "allow", "identity", "prod/payments"))))
                        .build());

        await().atMost(Duration.ofSeconds(10)).until(() -> decisions().size() == 1);
        assertThat(decisions().get(0).get("identity").asText()).isEqualTo("curl/curl");
        assertThat(get("/metrics").body())
                .contains("portcullis_decision_log_problems_total{problem=\"identity_mismatch\"} 1")
                .doesNotContain("identity=\"prod/payments\"");
    }

    @Test
    void aStreamWhoseNodeIdNamesAnotherServiceAccountThanItsCertificateIsRefusedAndRecordsNothing() throws Exception {
        startMutualTls();
        channel = tlsChannel(new SpiffeId(TRUST_DOMAIN, "curl", "sleep"));

        Stream stream = Stream.open(channel);
        stream.send(StreamAccessLogsMessage.newBuilder()
                .setIdentifier(identifier(CURL_NODE, DecisionLog.ALS_LOG_NAME))
                .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder()
                        .addLogEntry(tcp(Map.of("decision", "deny"))))
                .build());

        Throwable error = stream.errors.poll(10, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(Status.fromThrowable(error).getDescription())
                .contains("claims curl/curl")
                .contains("spiffe://cluster.local/ns/curl/sa/sleep");
        assertThat(decisions()).isEmpty();
        assertThat(get("/metrics").body())
                .contains("portcullis_decision_log_problems_total{problem=\"stream_refused\"} 1");
    }

    @Test
    void entriesOfAnotherLogNameAreNotDecisions() throws Exception {
        startMutualTls();
        channel = tlsChannel(new SpiffeId(TRUST_DOMAIN, "curl", "curl"));

        Stream.open(channel)
                .send(StreamAccessLogsMessage.newBuilder()
                        .setIdentifier(identifier(CURL_NODE, "someone-elses-access-log"))
                        .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder()
                                .addLogEntry(tcp(Map.of("decision", "deny"))))
                        .build());

        await().atMost(Duration.ofSeconds(10))
                .until(() -> get("/metrics").body().contains("problem=\"other_log_name\"} 1"));
        assertThat(decisions()).isEmpty();
    }

    @Test
    void onThePlaintextDevelopmentServerTheNodeIdIsTrustedAsForAds() throws Exception {
        EgressControlPlane controlPlane = controlPlane();
        SidecarRegistry registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        server = new XdsServer(new InetSocketAddress("127.0.0.1", 0), controlPlane, registry).start();
        startDebug(controlPlane, registry);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();

        Stream.open(channel)
                .send(StreamAccessLogsMessage.newBuilder()
                        .setIdentifier(identifier(
                                SidecarBootstrap.node(SidecarNodeId.parse("sidecar~shop~cart~cart-1")),
                                DecisionLog.ALS_LOG_NAME))
                        .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder()
                                .addLogEntry(tcp(Map.of("decision", "deny"))))
                        .build());

        await().atMost(Duration.ofSeconds(10)).until(() -> decisions().size() == 1);
        assertThat(decisions().get(0).get("identity").asText()).isEqualTo("shop/cart");
    }

    private void startMutualTls() throws Exception {
        ca = CertificateAuthority.inDirectory(tmp.resolve("ca"), Clock.systemUTC());
        EgressControlPlane controlPlane = controlPlane();
        SidecarRegistry registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        server = new XdsServer(
                        new InetSocketAddress("127.0.0.1", 0),
                        controlPlane,
                        registry,
                        new XdsServerTls(ca, List.of("127.0.0.1"), Duration.ofHours(1), TRUST_DOMAIN))
                .start();
        startDebug(controlPlane, registry);
    }

    private static EgressControlPlane controlPlane() {
        EgressControlPlane controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
        return controlPlane;
    }

    private void startDebug(EgressControlPlane controlPlane, SidecarRegistry registry) throws Exception {
        debug = new DebugEndpoint(
                new InetSocketAddress("127.0.0.1", 0),
                controlPlane,
                registry,
                new DebugAccess(Optional.of(TOKEN), Optional.empty(), Set.of()));
        debug.start();
    }

    private JsonNode decisions() throws Exception {
        HttpResponse<String> response = get("/debug/decisions");
        assertThat(response.statusCode()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** As Prometheus scrapes: with the bearer token. */
    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(
                                        "http://127.0.0.1:" + debug.address().getPort() + path))
                                .header("Authorization", "Bearer " + TOKEN)
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    private ManagedChannel tlsChannel(SpiffeId id) throws Exception {
        IssuedCertificate cert = ca.issueWorkload(id, Duration.ofHours(1));
        return NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .sslContext(GrpcSslContexts.configure(SslContextBuilder.forClient()
                                .keyManager(cert.privateKey(), cert.certificate())
                                .trustManager(ca.certificate()))
                        .build())
                .build();
    }

    private static StreamAccessLogsMessage.Identifier identifier(Node node, String logName) {
        return StreamAccessLogsMessage.Identifier.newBuilder()
                .setNode(node)
                .setLogName(logName)
                .build();
    }

    private static TCPAccessLogEntry tcp(Map<String, String> fields) {
        return TCPAccessLogEntry.newBuilder().setCommonProperties(tags(fields)).build();
    }

    private static AccessLogCommon tags(Map<String, String> fields) {
        AccessLogCommon.Builder common = AccessLogCommon.newBuilder();
        fields.forEach((field, value) -> common.putCustomTags(DecisionLog.TAG_PREFIX + field, value));
        return common.build();
    }

    private record Stream(StreamObserver<StreamAccessLogsMessage> messages, BlockingQueue<Throwable> errors) {

        static Stream open(ManagedChannel channel) {
            BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
            StreamObserver<StreamAccessLogsMessage> messages = AccessLogServiceGrpc.newStub(channel)
                    .streamAccessLogs(new StreamObserver<StreamAccessLogsResponse>() {
                        @Override
                        public void onNext(StreamAccessLogsResponse value) {}

                        @Override
                        public void onError(Throwable t) {
                            errors.add(t);
                        }

                        @Override
                        public void onCompleted() {}
                    });
            return new Stream(messages, errors);
        }

        void send(StreamAccessLogsMessage message) {
            messages.onNext(message);
        }
    }
}
