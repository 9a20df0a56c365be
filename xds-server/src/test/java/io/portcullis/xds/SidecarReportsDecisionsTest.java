package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.debug.DebugAccess;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.envoy.DecisionLog;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import io.portcullis.identity.XdsServerTls;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.source.SourceUpdate;
import io.portcullis.testfixtures.EgressManifest;
import io.portcullis.translator.EnvoyProcess;
import io.portcullis.translator.NeedsEnvoy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Envoy sidecar, on ADS over mutual TLS with a certificate of curl/curl, reports its decisions over
 * the gRPC access log service to the same control plane, and an operator sees them as a Prometheus scrape
 * would: {@code /metrics} and {@code /debug/decisions}, with the debug bearer token.
 *
 * <p>One test runs the translator's own config and loggers: a real curl refused by a policy's route group is
 * reported with that policy. The others add two static listeners to the test's bootstrap with literal
 * decision-log tags (a TCP proxy that lets a real connection through, an HTTP listener that answers 403),
 * to reach what the translator never emits: a tag claiming another identity than the certificate, which
 * must not win. Also checked: the fields Envoy fills (destination, host, method, path, status), the
 * decision counters, and the xDS metrics (push-to-ACK histogram, NACK counter) moving with real ACKs and a
 * real NACK.
 *
 * <p>Envoy binds the outbound listener's port 15001 it gets over ADS, so the test holds the lab lock like
 * {@link LiveEnvoyAcksGeneratedPolicySetsTest}. A missing Envoy or curl fails it.
 */
@NeedsEnvoy
class SidecarReportsDecisionsTest {

    private static final String TRUST_DOMAIN = "cluster.local";
    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final String TOKEN = "prometheus-scrape-token";
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private FileChannel lockFile;
    private FileLock lock;
    private EgressControlPlane controlPlane;
    private SidecarRegistry registry;
    private XdsServer xds;
    private DebugEndpoint debug;
    private ServerSocket echo;
    private Process envoy;
    private Path envoyLog;
    /** The static listeners' ports, chosen free when the bootstrap is written. */
    private int tcpPort;

    private int httpPort;

    @BeforeEach
    void start() throws Exception {
        lockFile = FileChannel.open(
                LiveEnvoyAcksGeneratedPolicySetsTest.LAB_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock = lockFile.lock();
        CertificateAuthority ca = CertificateAuthority.inDirectory(tmp.resolve("ca"), Clock.systemUTC());
        controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
        registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        xds = new XdsServer(
                        new InetSocketAddress("127.0.0.1", 0),
                        controlPlane,
                        registry,
                        new XdsServerTls(ca, List.of("127.0.0.1"), Duration.ofHours(1), TRUST_DOMAIN))
                .start();
        debug = new DebugEndpoint(
                new InetSocketAddress("127.0.0.1", 0),
                controlPlane,
                registry,
                new DebugAccess(Optional.of(TOKEN), Optional.empty(), Set.of()));
        debug.start();
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::echoConnections);

        CertificateDirectory certs = new CertificateDirectory(tmp.resolve("certs"));
        IssuedCertificate cert = ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "curl"), Duration.ofHours(1));
        certs.publish(cert.certificatePem(), cert.privateKeyPem(), ca.certificatePem(), OptionalInt.empty());
        Path bootstrap = tmp.resolve("bootstrap.json");
        Files.writeString(bootstrap, bootstrapJson(certs));
        envoyLog = tmp.resolve("envoy.log");
        envoy = new ProcessBuilder(
                        EnvoyProcess.binary().toString(),
                        "-c",
                        bootstrap.toString(),
                        "--disable-hot-restart",
                        "--log-level",
                        "warn",
                        "--drain-strategy",
                        "immediate",
                        "--drain-time-s",
                        "1")
                .redirectErrorStream(true)
                .redirectOutput(envoyLog.toFile())
                .start();
        await("Envoy connects over ADS and ACKs its listeners (log: " + envoyLog + ")")
                .atMost(DEADLINE)
                .until(() -> {
                    requireEnvoyAlive();
                    return acked(
                            "Listener",
                            controlPlane
                                    .served(CURL)
                                    .map(s -> s.resources().versions().listeners()));
                });
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (envoy != null) {
                envoy.destroy();
                if (!envoy.waitFor(10, TimeUnit.SECONDS)) {
                    envoy.destroyForcibly();
                }
            }
            if (xds != null) {
                xds.close();
            }
            if (debug != null) {
                debug.close();
            }
            if (echo != null) {
                echo.close();
            }
        } finally {
            if (lock != null) {
                lock.release();
                lockFile.close();
            }
        }
    }

    @Test
    void aRealConnectionAndARealRequestShowUpInDebugDecisionsAndMetricsUnderTheCertificatesIdentity() throws Exception {
        // A connection through the TCP listener, whose bytes come back from the echo server.
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), tcpPort)) {
            socket.getOutputStream().write("ping\n".getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            assertThat(new String(socket.getInputStream().readNBytes(5), StandardCharsets.UTF_8))
                    .isEqualTo("ping\n");
        }
        // A request through the HTTP listener, with real curl.
        Process curl = new ProcessBuilder(
                        "curl",
                        "-sS",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "-X",
                        "POST",
                        "-H",
                        "Host: httpbin.org",
                        "http://127.0.0.1:" + httpPort + "/post")
                .redirectErrorStream(true)
                .start();
        assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo("403");
        assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();

        await("both decisions reach /debug/decisions").atMost(DEADLINE).until(() -> {
            requireEnvoyAlive();
            return decisions().size() == 2;
        });
        JsonNode decisions = decisions();
        JsonNode http = find(decisions, "http");
        assertThat(http.get("identity").asText()).isEqualTo("curl/curl");
        assertThat(http.get("decision").asText()).isEqualTo("deny");
        assertThat(http.get("policy").asText()).isEqualTo("curl/httpbin-80");
        assertThat(http.get("reason").asText()).isEqualTo("no route of curl/httpbin-80 matches");
        assertThat(http.get("host").asText()).isEqualTo("httpbin.org");
        assertThat(http.get("method").asText()).isEqualTo("POST");
        assertThat(http.get("path").asText()).isEqualTo("/post");
        assertThat(http.get("response_code").asInt()).isEqualTo(403);
        assertThat(http.get("destination").asText()).isEqualTo("127.0.0.1:" + httpPort);
        JsonNode tcp = find(decisions, "tcp");
        assertThat(tcp.get("identity").asText())
                .as("the listener's tag claims prod/payments; the certificate says curl/curl")
                .isEqualTo("curl/curl");
        assertThat(tcp.get("decision").asText()).isEqualTo("allow");
        assertThat(tcp.get("policy").asText()).isEqualTo("curl/postgres-5432");
        assertThat(tcp.get("destination").asText()).isEqualTo("127.0.0.1:" + tcpPort);

        String scrape = scrape();
        assertThat(sample(
                        scrape,
                        "portcullis_egress_decisions_total{decision=\"deny\",identity=\"curl/curl\","
                                + "policy=\"curl/httpbin-80\",protocol=\"http\"}"))
                .isEqualTo(1.0);
        assertThat(sample(
                        scrape,
                        "portcullis_egress_decisions_total{decision=\"allow\",identity=\"curl/curl\","
                                + "policy=\"curl/postgres-5432\",protocol=\"tcp\"}"))
                .isEqualTo(1.0);
        assertThat(sample(scrape, "portcullis_decision_log_problems_total{problem=\"identity_mismatch\"}"))
                .isEqualTo(1.0);
        assertThat(scrape).doesNotContain("prod/payments");
        assertThat(sample(scrape, "portcullis_sidecars_connected")).isEqualTo(1.0);
    }

    /**
     * The translator's own loggers (route metadata as tags over http_grpc). The test runs without the
     * pod's iptables redirect, so a connection to the outbound listener keeps its own address as the
     * original destination: the policy names that port, 15001, for the request to reach its chain.
     */
    @Test
    void aRealDenialUnderTheTranslatorsConfigIsReportedWithTheDecidingPolicyAndTheProvenIdentity() throws Exception {
        int outbound = io.portcullis.bootstrap.SidecarContract.OUTBOUND_PORT;
        controlPlane.apply(FailClosedOnNackTest.update("---\n"
                + EgressManifest.named("httpbin-" + outbound)
                        .host("httpbin.org")
                        .port(outbound, "http")
                        .matchesRouteGroup("get-only")
                        .yaml()
                + FailClosedOnNackTest.routeGroup("get-only", "/get")));
        SidecarResources.Versions version =
                controlPlane.served(CURL).orElseThrow().resources().versions();
        await("Envoy ACKs " + version).atMost(DEADLINE).until(() -> {
            requireEnvoyAlive();
            return acked("Listener", Optional.of(version.listeners()))
                    && acked("RouteConfiguration", Optional.of(version.routes()));
        });

        Process curl = new ProcessBuilder(
                        "curl",
                        "-sS",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "-X",
                        "POST",
                        "-H",
                        "Host: httpbin.org",
                        "http://127.0.0.1:" + outbound + "/post")
                .redirectErrorStream(true)
                .start();
        assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .as("POST is outside the route group's GET /get")
                .isEqualTo("403");
        assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();

        await("the denial reaches /debug/decisions").atMost(DEADLINE).until(() -> {
            requireEnvoyAlive();
            return decisions().size() == 1;
        });
        JsonNode denial = decisions().get(0);
        assertThat(denial.get("identity").asText()).isEqualTo("curl/curl");
        assertThat(denial.get("decision").asText()).isEqualTo("deny");
        assertThat(denial.get("policy").asText()).isEqualTo("curl/httpbin-" + outbound);
        assertThat(denial.get("protocol").asText()).isEqualTo("http");
        assertThat(denial.get("host").asText()).isEqualTo("httpbin.org");
        assertThat(denial.get("method").asText()).isEqualTo("POST");
        assertThat(denial.get("path").asText()).isEqualTo("/post");
        assertThat(denial.get("response_code").asInt()).isEqualTo(403);
        assertThat(denial.get("reason").asText()).isNotBlank();
        assertThat(sample(
                        scrape(),
                        "portcullis_egress_decisions_total{decision=\"deny\",identity=\"curl/curl\","
                                + "policy=\"curl/httpbin-" + outbound + "\",protocol=\"http\"}"))
                .isEqualTo(1.0);
    }

    @Test
    void aScrapeShowsTheAckLatencyHistogramGrowWithAnAckedPushAndTheNackCounterWithARejectedOne() throws Exception {
        String before = scrape();
        double listenerAcks = sample(before, "portcullis_xds_ack_latency_seconds_count{type=\"Listener\"}");
        assertThat(listenerAcks).as("the first listeners were ACKed").isGreaterThanOrEqualTo(1.0);
        assertThat(sample(before, "portcullis_xds_ack_latency_seconds_bucket{type=\"Listener\",le=\"+Inf\"}"))
                .isEqualTo(listenerAcks);
        assertThat(sample(before, "portcullis_xds_nacks_total{type=\"Listener\"}"))
                .as("no NACK yet, and the series is there at 0 for increase() to see the first")
                .isEqualTo(0.0);

        // A policy for curl/curl: a new version, which Envoy ACKs.
        controlPlane.apply(FailClosedOnNackTest.update(FailClosedOnNackTest.egress("httpbin-80", "httpbin.org", null)));
        String pushed =
                controlPlane.served(CURL).orElseThrow().resources().versions().listeners();
        await("Envoy ACKs " + pushed).atMost(DEADLINE).until(() -> acked("Listener", Optional.of(pushed)));
        await().atMost(DEADLINE)
                .until(() ->
                        sample(scrape(), "portcullis_xds_ack_latency_seconds_count{type=\"Listener\"}") > listenerAcks);

        // A listener Envoy refuses (two filter chains with the same match), put straight into the cache.
        SidecarResources served = controlPlane.served(CURL).orElseThrow().resources();
        Listener listener = served.listeners().get(0);
        FilterChain.Builder discard = listener.getDefaultFilterChain().toBuilder()
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(9)));
        SidecarResources broken = SidecarResources.of(
                List.of(listener.toBuilder()
                        .addFilterChains(discard.clone().setName("discard_a"))
                        .addFilterChains(discard.clone().setName("discard_b"))
                        .build()),
                served.clusters(),
                served.routes());
        controlPlane
                .cache()
                .setSnapshot(
                        CURL,
                        Snapshot.create(
                                broken.clusters(),
                                broken.versions().clusters(),
                                List.of(),
                                broken.version(),
                                broken.listeners(),
                                broken.versions().listeners(),
                                broken.routes(),
                                broken.versions().routes(),
                                List.of(),
                                broken.version()));

        await("the NACK is counted").atMost(DEADLINE).until(() -> {
            requireEnvoyAlive();
            return sample(scrape(), "portcullis_xds_nacks_total{type=\"Listener\"}") == 1.0;
        });
        assertThat(registry.sidecars().get(0).types().get("Listener").nackedVersion())
                .isEqualTo(broken.versions().listeners());
    }

    private String bootstrapJson(CertificateDirectory certs) throws IOException {
        tcpPort = freePort();
        httpPort = freePort();
        SidecarBootstrap sidecar = new SidecarBootstrap(
                        new SidecarNodeId(CURL.namespace(), CURL.name(), "curl-1"),
                        "127.0.0.1",
                        xds.port(),
                        freePort(),
                        "127.0.0.1")
                .withXdsCertificates(certs);
        Bootstrap proto = sidecar.toProto();
        Bootstrap.StaticResources.Builder statics = proto.getStaticResources().toBuilder()
                // The health listener binds 15021 on every address; this test needs none of it.
                .clearListeners()
                .addClusters(Cluster.newBuilder()
                        .setName("echo")
                        .setType(Cluster.DiscoveryType.STATIC)
                        .setConnectTimeout(
                                com.google.protobuf.Duration.newBuilder().setSeconds(2))
                        .setLoadAssignment(ClusterLoadAssignment.newBuilder()
                                .setClusterName("echo")
                                .addEndpoints(LocalityLbEndpoints.newBuilder()
                                        .addLbEndpoints(LbEndpoint.newBuilder()
                                                .setEndpoint(Endpoint.newBuilder()
                                                        .setAddress(address(echo.getLocalPort())))))))
                .addListeners(Listener.newBuilder()
                        .setName("allowed_tcp")
                        .setAddress(address(tcpPort))
                        .addFilterChains(FilterChain.newBuilder()
                                .addFilters(Filter.newBuilder()
                                        .setName("envoy.filters.network.tcp_proxy")
                                        .setTypedConfig(Any.pack(TcpProxy.newBuilder()
                                                .setStatPrefix("allowed_tcp")
                                                .setCluster("echo")
                                                .addAccessLog(AccessLog.newBuilder()
                                                        .setName("envoy.access_loggers.tcp_grpc")
                                                        .setTypedConfig(Any.pack(TcpGrpcAccessLogConfig.newBuilder()
                                                                .setCommonConfig(decisionLog(Map.of(
                                                                        DecisionLog.DECISION, DecisionLog.ALLOW,
                                                                        DecisionLog.POLICY, "curl/postgres-5432",
                                                                        DecisionLog.IDENTITY, "prod/payments")))
                                                                .build())))
                                                .build())))))
                .addListeners(Listener.newBuilder()
                        .setName("denied_http")
                        .setAddress(address(httpPort))
                        .addFilterChains(FilterChain.newBuilder()
                                .addFilters(Filter.newBuilder()
                                        .setName("envoy.filters.network.http_connection_manager")
                                        .setTypedConfig(Any.pack(HttpConnectionManager.newBuilder()
                                                .setStatPrefix("denied_http")
                                                .setRouteConfig(RouteConfiguration.newBuilder()
                                                        .setName("denied_http")
                                                        .addVirtualHosts(VirtualHost.newBuilder()
                                                                .setName("any")
                                                                .addDomains("*")
                                                                .addRoutes(Route.newBuilder()
                                                                        .setMatch(RouteMatch.newBuilder()
                                                                                .setPrefix("/"))
                                                                        .setDirectResponse(
                                                                                DirectResponseAction.newBuilder()
                                                                                        .setStatus(403)))))
                                                .addHttpFilters(HttpFilter.newBuilder()
                                                        .setName("envoy.filters.http.router")
                                                        .setTypedConfig(Any.pack(Router.getDefaultInstance())))
                                                .addAccessLog(AccessLog.newBuilder()
                                                        .setName("envoy.access_loggers.http_grpc")
                                                        .setTypedConfig(Any.pack(HttpGrpcAccessLogConfig.newBuilder()
                                                                .setCommonConfig(decisionLog(Map.of(
                                                                        DecisionLog.DECISION, DecisionLog.DENY,
                                                                        DecisionLog.POLICY, "curl/httpbin-80",
                                                                        DecisionLog.REASON,
                                                                                "no route of curl/httpbin-80 matches")))
                                                                .build())))
                                                .build())))));
        Bootstrap withListeners = proto.toBuilder().setStaticResources(statics).build();
        JsonFormat.TypeRegistry types = JsonFormat.TypeRegistry.newBuilder()
                .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
                .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor())
                .add(HttpConnectionManager.getDescriptor())
                .add(Router.getDescriptor())
                .add(TcpProxy.getDescriptor())
                .add(TcpGrpcAccessLogConfig.getDescriptor())
                .add(HttpGrpcAccessLogConfig.getDescriptor())
                .build();
        return JsonFormat.printer().usingTypeRegistry(types).print(withListeners);
    }

    /** The decision log's gRPC access logger, as the translator writes it: literal tags, to the xDS cluster. */
    private static CommonGrpcAccessLogConfig decisionLog(Map<String, String> fields) {
        CommonGrpcAccessLogConfig.Builder config = CommonGrpcAccessLogConfig.newBuilder()
                .setLogName(DecisionLog.ALS_LOG_NAME)
                .setTransportApiVersion(ApiVersion.V3)
                .setGrpcService(GrpcService.newBuilder()
                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(SidecarBootstrap.XDS_CLUSTER)))
                .setBufferFlushInterval(
                        com.google.protobuf.Duration.newBuilder().setNanos(200_000_000));
        fields.forEach((field, value) -> config.addCustomTags(CustomTag.newBuilder()
                .setTag(DecisionLog.TAG_PREFIX + field)
                .setLiteral(CustomTag.Literal.newBuilder().setValue(value))));
        return config.build();
    }

    private static Address address(int port) {
        return Address.newBuilder()
                .setSocketAddress(
                        SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(port))
                .build();
    }

    private void echoConnections() {
        while (!echo.isClosed()) {
            try {
                Socket socket = echo.accept();
                Thread.ofVirtual().start(() -> {
                    try (socket;
                            InputStream in = socket.getInputStream();
                            OutputStream out = socket.getOutputStream()) {
                        in.transferTo(out);
                    } catch (IOException e) {
                        // the client went away
                    }
                });
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** Whether the sidecar ACKed {@code version} of {@code type}; fails with Envoy's message on its NACK. */
    private boolean acked(String type, Optional<String> version) {
        if (version.isEmpty() || registry.sidecars().size() != 1) {
            return false;
        }
        SidecarStatus.TypeStatus status = registry.sidecars().get(0).types().get(type);
        if (status != null && version.get().equals(status.nackedVersion())) {
            throw new AssertionError("Envoy NACKed " + type + " " + version.get() + ": " + status.nackMessage());
        }
        return status != null && version.get().equals(status.ackedVersion());
    }

    private JsonNode decisions() throws Exception {
        HttpResponse<String> response = get("/debug/decisions");
        assertThat(response.statusCode()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static JsonNode find(JsonNode decisions, String protocol) {
        for (JsonNode decision : decisions) {
            if (protocol.equals(decision.get("protocol").asText())) {
                return decision;
            }
        }
        throw new AssertionError("no " + protocol + " decision in " + decisions);
    }

    private String scrape() throws Exception {
        HttpResponse<String> response = get("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return response.body();
    }

    /** As Prometheus scrapes the debug endpoint: with the bearer token. */
    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(
                                        "http://127.0.0.1:" + debug.address().getPort() + path))
                                .header("Authorization", "Bearer " + TOKEN)
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    /** The value of one series in a Prometheus text scrape; NaN when it is not there. */
    static double sample(String scrape, String series) {
        Matcher line =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)").matcher(scrape);
        return line.find() ? Double.parseDouble(line.group(1)) : Double.NaN;
    }

    private void requireEnvoyAlive() throws IOException {
        if (!envoy.isAlive()) {
            throw new AssertionError("Envoy exited with " + envoy.exitValue() + ":\n" + Files.readString(envoyLog));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
