package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import io.portcullis.identity.XdsServerTls;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.translator.EnvoyProcess;
import io.portcullis.translator.NeedsEnvoy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Envoy sidecar, started from {@code SidecarBootstrap} over mutual TLS with a certificate of curl/curl, opens
 * the RTDS stream of its bootstrap's runtime layer, ACKs it, and its admin {@code /runtime} shows the MeshConfig's
 * sample rate under {@link SidecarContract#DECISION_SAMPLE_RUNTIME_KEY}. A rate change reaches {@code /runtime}
 * without any LDS update ({@code listener_manager.lds.update_success} and the listener's version in
 * {@code /config_dump} unchanged), and the admin layer still overrides the key on this one sidecar.
 *
 * <p>Envoy binds the outbound listener's port 15001 it gets over LDS, so the test holds the lab lock like
 * {@link LiveEnvoyAcksGeneratedPolicySetsTest}. A missing Envoy fails it.
 */
@NeedsEnvoy
class SidecarRuntimeOverRtdsTest {

    private static final String TRUST_DOMAIN = "cluster.local";
    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final String NODE_ID = new SidecarNodeId(CURL.namespace(), CURL.name(), "curl-1").nodeId();
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private FileChannel lockFile;
    private FileLock lock;
    private EgressControlPlane controlPlane;
    private XdsServer xds;
    private Process envoy;
    private Path envoyLog;
    private int adminPort;

    @BeforeEach
    void start() throws Exception {
        lockFile = FileChannel.open(
                LiveEnvoyAcksGeneratedPolicySetsTest.LAB_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock = lockFile.lock();
        CertificateAuthority ca = CertificateAuthority.inDirectory(tmp.resolve("ca"), Clock.systemUTC());
        controlPlane = new EgressControlPlane();
        controlPlane.apply(FailClosedOnNackTest.update(RuntimeDiscoveryTest.meshConfig(5)));
        xds = new XdsServer(
                        new InetSocketAddress("127.0.0.1", 0),
                        controlPlane,
                        new SidecarRegistry(controlPlane, Clock.systemUTC()),
                        new XdsServerTls(ca, List.of("127.0.0.1"), Duration.ofHours(1), TRUST_DOMAIN))
                .start();

        CertificateDirectory certs = new CertificateDirectory(tmp.resolve("certs"));
        IssuedCertificate cert = ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "curl"), Duration.ofHours(1));
        certs.publish(cert.certificatePem(), cert.privateKeyPem(), ca.certificatePem(), OptionalInt.empty());
        adminPort = freePort();
        Bootstrap proto = new SidecarBootstrap(
                        SidecarNodeId.parse(NODE_ID), "127.0.0.1", xds.port(), adminPort, "127.0.0.1")
                .withXdsCertificates(certs)
                .toProto();
        // The health listener binds 15021 on every address; this test needs none of it.
        Bootstrap bootstrap = proto.toBuilder()
                .setStaticResources(proto.getStaticResources().toBuilder().clearListeners())
                .build();
        Path bootstrapFile = tmp.resolve("bootstrap.json");
        JsonFormat.TypeRegistry types = JsonFormat.TypeRegistry.newBuilder()
                .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
                .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor())
                .build();
        Files.writeString(
                bootstrapFile, JsonFormat.printer().usingTypeRegistry(types).print(bootstrap));
        envoyLog = tmp.resolve("envoy.log");
        envoy = new ProcessBuilder(
                        EnvoyProcess.binary().toString(),
                        "-c",
                        bootstrapFile.toString(),
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
        await("Envoy gets its listener over LDS (log: " + envoyLog + ")")
                .atMost(DEADLINE)
                .ignoreExceptions()
                .until(() -> listenerVersion() != null);
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
        } finally {
            if (lock != null) {
                lock.release();
                lockFile.close();
            }
        }
    }

    @Test
    void aRealEnvoyAcksTheRuntimeLayerAndItsAdminRuntimeShowsTheMeshConfigsRate() throws Exception {
        await("the RTDS layer is ACKed and /runtime shows 5").atMost(DEADLINE).until(() -> "5".equals(runtimeValue()));
        assertThat(controlPlane.runtimeDiscovery().ackedVersions())
                .containsEntry(NODE_ID, DecisionSamplingLayer.version(5));
        assertThat(stat("runtime.load_error")).isZero();
    }

    @Test
    void aRateChangeReachesRuntimeWithoutAnyLdsUpdateAndTheAdminLayerStillOverridesIt() throws Exception {
        await().atMost(DEADLINE).until(() -> "5".equals(runtimeValue()));
        long ldsUpdates = stat("listener_manager.lds.update_success");
        String listenerVersion = listenerVersion();
        assertThat(ldsUpdates).as("the first LDS response").isPositive();

        controlPlane.apply(FailClosedOnNackTest.update(RuntimeDiscoveryTest.meshConfig(60)));

        await("/runtime shows the new rate 60").atMost(DEADLINE).until(() -> "60".equals(runtimeValue()));
        assertThat(controlPlane.runtimeDiscovery().ackedVersions())
                .containsEntry(NODE_ID, DecisionSamplingLayer.version(60));
        assertThat(stat("listener_manager.lds.update_success"))
                .as("no LDS update for a rate change")
                .isEqualTo(ldsUpdates);
        assertThat(listenerVersion()).as("the listener's version").isEqualTo(listenerVersion);

        // An operator's override on this one sidecar wins over the control plane's layer, even after a new rate.
        HttpResponse<String> modified = admin(HttpRequest.newBuilder(
                        adminUri("/runtime_modify?" + SidecarContract.DECISION_SAMPLE_RUNTIME_KEY + "=7"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
        assertThat(modified.statusCode()).as(modified.body()).isEqualTo(200);
        assertThat(runtimeValue()).isEqualTo("7");
        controlPlane.apply(FailClosedOnNackTest.update(RuntimeDiscoveryTest.meshConfig(80)));
        await().atMost(DEADLINE)
                .until(() -> DecisionSamplingLayer.version(80)
                        .equals(controlPlane.runtimeDiscovery().ackedVersions().get(NODE_ID)));
        assertThat(runtimeValue()).as("the admin layer is the last").isEqualTo("7");
    }

    /** The key's final value in {@code /runtime} (a string there), or null when no layer sets it. */
    private String runtimeValue() throws Exception {
        JsonNode entry = JSON.readTree(
                        admin(HttpRequest.newBuilder(adminUri("/runtime")).build())
                                .body())
                .path("entries")
                .path(SidecarContract.DECISION_SAMPLE_RUNTIME_KEY);
        return entry.isMissingNode() ? null : entry.path("final_value").asText();
    }

    /** The version_info of the LDS listener in {@code /config_dump}, or null before it arrived. */
    private String listenerVersion() throws Exception {
        requireEnvoyAlive();
        JsonNode dump = JSON.readTree(admin(HttpRequest.newBuilder(adminUri("/config_dump?resource=dynamic_listeners"))
                        .build())
                .body());
        for (JsonNode listener : dump.path("configs")) {
            if (listener.path("name").asText().equals("egress_outbound")) {
                JsonNode version = listener.path("active_state").path("version_info");
                return version.isMissingNode() ? null : version.asText();
            }
        }
        return null;
    }

    private long stat(String name) throws Exception {
        String body = admin(HttpRequest.newBuilder(adminUri("/stats?filter="
                                + URLEncoder.encode("^" + name.replace(".", "\\.") + "$", StandardCharsets.UTF_8)))
                        .build())
                .body();
        for (String line : body.lines().toList()) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError("no stat " + name + " in " + body);
    }

    private URI adminUri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + adminPort + pathAndQuery);
    }

    private static HttpResponse<String> admin(HttpRequest request) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        }
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
