package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Proven identity on xDS, with real Envoy: a sidecar gets the config of the ServiceAccount its
 * certificate from the mesh CA names, and nothing when its node id claims another one or when it has
 * no certificate; a renewed certificate is picked up by the running Envoy.
 *
 * <p>pcl-curl runs a genuine curl/curl sidecar throughout (the positive control: the policy lets it
 * reach httpbin.org); the cases under test run one at a time in pcl-other.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SidecarIdentityIT {

    /** The bootstrap's own listeners ({@code sidecar_health}, for the kubelet's probes); they serve no egress. */
    private static final long STATIC_LISTENERS = io.portcullis.bootstrap.SidecarBootstrap.of(
                    new io.portcullis.bootstrap.SidecarNodeId("ns", "sa", "pod"), "127.0.0.1", 15010)
            .toProto()
            .getStaticResources()
            .getListenersCount();

    private static final String HTTPBIN_80 = "http://httpbin.org:80/get";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TRIES = Duration.ofSeconds(60);

    private Path workDir;
    private NetworkLab lab;
    private PortcullisCli cli;
    private ControlPlaneProcess controlPlane;
    private Pod curlPod;
    private Sidecar curlSidecar;
    private Sidecar caseSidecar;

    @BeforeAll
    void startLabControlPlaneAndAGenuineSidecar() throws Exception {
        LabWorkspace workspace = LabWorkspace.open("identity");
        workDir = workspace.workDir();
        lab = workspace.lab();
        cli = workspace.cli();
        controlPlane = startControlPlane("control-plane.log");
        cli.patchMeshConfig(Manifests.ENABLE_EGRESS_POLICY);
        cli.apply(Manifests.HTTPBIN_80); // lets curl/curl reach httpbin.org:80

        curlPod = new Pod("pcl-curl", "curl", "curl", "curl-54ccc6954c-9rlvp", lab.caCertificate());
        curlSidecar = Sidecar.start(cli, curlPod, workDir);
        await("the genuine curl/curl sidecar reaches httpbin.org")
                .atMost(TRIES)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> curlPod.curl(HTTPBIN_80).ok());
    }

    @AfterEach
    void stopCaseSidecar() {
        if (caseSidecar != null) {
            caseSidecar.close();
            caseSidecar = null;
        }
    }

    @AfterAll
    void stopEverything() {
        if (curlSidecar != null) {
            curlSidecar.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    @Order(1)
    void aSidecarWithACurlSleepCertificateClaimingCurlCurlInItsNodeIdGetsNoConfigAndTheControlPlaneSaysWhy()
            throws Exception {
        Pod impostor = new Pod("pcl-other", "curl", "curl", "impostor-1", lab.caCertificate());
        Path certs = workDir.resolve("impostor-certs");
        cli.run(
                null,
                "cert",
                "issue",
                "-n",
                "curl",
                "--service-account",
                "sleep",
                "--ca-dir",
                cli.caDir().toString(),
                "--cert-dir",
                certs.toString(),
                "--key-owner-uid",
                String.valueOf(Sidecar.PROXY_UID));
        Path bootstrap = Sidecar.bootstrap(cli, impostor, workDir, "--cert-dir", certs.toString());

        caseSidecar = Sidecar.startWithBootstrap(cli, impostor, workDir, bootstrap);

        String why = "refusing xDS stream";
        await("the control plane refuses the impostor's streams, repeatedly")
                .atMost(TRIES)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> refusals(controlPlane.logText()).size() >= 2);
        assertThat(refusals(controlPlane.logText()))
                .allSatisfy(line -> assertThat(line)
                        .contains(why)
                        .contains("node id 'sidecar~curl~curl~impostor-1' claims curl/curl")
                        .contains("spiffe://cluster.local/ns/curl/sa/sleep")
                        .contains("198.18.0.102:"));
        assertNoConfig(impostor);
        assertThat(controlPlane.sidecars().findValues("nodeId"))
                .extracting(JsonNode::asText)
                .containsExactly("sidecar~curl~curl~curl-54ccc6954c-9rlvp");
    }

    @Test
    @Order(2)
    void aSidecarWithoutClientCertificateGetsNoConfig() throws Exception {
        Pod sleep = new Pod("pcl-other", "curl", "sleep", "sleep-no-cert", lab.caCertificate());
        Path bootstrap = Sidecar.bootstrap(
                cli,
                sleep,
                workDir,
                "--ca-dir",
                cli.caDir().toString(),
                "--cert-dir",
                workDir.resolve("sleep-no-cert-certs").toString(),
                "--key-owner-uid",
                String.valueOf(Sidecar.PROXY_UID));
        withoutClientCertificate(bootstrap);

        caseSidecar = Sidecar.startWithBootstrap(cli, sleep, workDir, bootstrap);

        awaitConnectionAttempts(sleep);
        assertNoConfig(sleep);
        assertThat(controlPlane.logText()).doesNotContain("identity=curl/sleep");
    }

    @Test
    @Order(3)
    void aPlaintextSidecarGetsNoConfig() throws Exception {
        Pod sleep = new Pod("pcl-other", "curl", "sleep", "sleep-plaintext", lab.caCertificate());
        Path bootstrap = Sidecar.bootstrap(cli, sleep, workDir, "--insecure-plaintext-xds");

        caseSidecar = Sidecar.startWithBootstrap(cli, sleep, workDir, bootstrap);

        awaitConnectionAttempts(sleep);
        assertNoConfig(sleep);
        assertThat(controlPlane.logText()).doesNotContain("identity=curl/sleep");
    }

    /** Control for the three cases above: the same pod, bootstrapped as it should be, is served. */
    @Test
    @Order(4)
    void theSamePodWithItsOwnCertificateGetsItsConfig() throws Exception {
        Pod sleep = new Pod("pcl-other", "curl", "sleep", "sleep-7b9c5d6f4-x2k4q", lab.caCertificate());

        caseSidecar = Sidecar.start(cli, sleep, workDir);

        await("curl/sleep sidecar gets its listener")
                .atMost(TRIES)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> activeListeners(sleep) >= 1);
        assertThat(controlPlane.logText()).contains("identity=curl/sleep");
        assertThat(sleep.curl(HTTPBIN_80).denied())
                .as("curl/sleep has no policy")
                .isTrue();
    }

    @Test
    @Order(5)
    void aRenewedCertificateIsPickedUpByTheRunningEnvoyWhichKeepsAndRegainsItsConfig() throws Exception {
        BigInteger before = servingSerial(curlPod);
        long envoyStarts = envoyStarts(curlSidecar);

        String issued = cli.run(
                        null,
                        "cert",
                        "issue",
                        "-n",
                        "curl",
                        "--service-account",
                        "curl",
                        "--ca-dir",
                        cli.caDir().toString(),
                        "--cert-dir",
                        Sidecar.certDir(curlPod, workDir).toString(),
                        "--key-owner-uid",
                        String.valueOf(Sidecar.PROXY_UID))
                .stdout();
        Matcher serial = Pattern.compile("serial ([0-9a-f]+)").matcher(issued);
        assertThat(serial.find()).as(issued).isTrue();
        BigInteger renewed = new BigInteger(serial.group(1), 16);
        assertThat(renewed).isNotEqualTo(before);

        await("Envoy's /certs shows the renewed certificate")
                .atMost(TRIES)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> renewed.equals(servingSerial(curlPod)));
        assertThat(curlSidecar.alive()).isTrue();
        assertThat(envoyStarts(curlSidecar)).as("Envoy was not restarted").isEqualTo(envoyStarts);
        assertThat(curlPod.curl(HTTPBIN_80).ok())
                .as("still allowed after the rotation")
                .isTrue();

        // A new control plane forces a new TLS handshake, now with the renewed certificate; a policy
        // change that arrives over it proves the sidecar is served again.
        controlPlane.close();
        controlPlane = startControlPlane("control-plane-2.log");
        cli.delete("egress", "curl", "httpbin-80");
        await("the policy's removal reaches the sidecar over the new connection")
                .atMost(TRIES)
                .pollInterval(Duration.ofMillis(200))
                .until(() ->
                        curlPod.curl(HTTPBIN_80 + "?probe=" + UUID.randomUUID()).denied());
        assertThat(controlPlane.logText())
                .contains("sidecar connected: node=sidecar~curl~curl~curl-54ccc6954c-9rlvp identity=curl/curl");
    }

    private ControlPlaneProcess startControlPlane(String logName) throws IOException {
        return new ControlPlaneProcess(cli, workDir.resolve(logName)).awaitHealthy();
    }

    private void assertNoConfig(Pod pod) throws IOException {
        assertThat(activeListeners(pod))
                .as("listener_manager.total_listeners_active of %s, minus the static health listener", pod.podName())
                .isZero();
        JsonNode dump = JSON.readTree(admin(pod, "/config_dump"));
        assertThat(dump.path("configs")).as("Envoy's config dump").isNotEmpty();
        assertThat(dump.findValues("dynamic_listeners"))
                .as("dynamic listeners in the config dump")
                .isEmpty();
        assertThat(dump.toString()).as("the outbound listener").doesNotContain("egress_outbound");
        String probe = "probe=" + UUID.randomUUID();
        Pod.CurlResult result = pod.curl(HTTPBIN_80 + "?" + probe);
        assertThat(result.denied()).as(result.toString()).isTrue();
        assertThat(lab.httpbinAccessLog()).doesNotContain(probe);
    }

    /** Envoy really tried to reach the control plane (so "no config" is not just "not yet"). */
    private void awaitConnectionAttempts(Pod pod) {
        await("Envoy of " + pod.podName() + " tried the control plane several times")
                .atMost(TRIES)
                .pollInterval(Duration.ofMillis(200))
                // Envoy's admin port refuses connections until Envoy is up: keep polling through that.
                .ignoreExceptions()
                .until(() -> stat(pod, "cluster.xds_cluster.upstream_cx_total") >= 3);
    }

    private static List<String> refusals(String log) {
        List<String> lines = new ArrayList<>();
        for (String line : log.lines().toList()) {
            if (line.contains("refusing xDS stream")) {
                lines.add(line);
            }
        }
        return lines;
    }

    /**
     * Active listeners that came over xDS: all but the bootstrap's static health listener; 0 while Envoy's
     * admin is not listening yet (curl exit 7), which on a loaded machine outlasts the first polls.
     */
    private long activeListeners(Pod pod) throws IOException {
        ProcessRun probe = adminRun(pod, "/ready");
        if (probe.exitCode() == CURL_COULD_NOT_CONNECT) {
            return 0;
        }
        return stat(pod, "listener_manager.total_listeners_active") - STATIC_LISTENERS;
    }

    private long stat(Pod pod, String name) throws IOException {
        String text = admin(pod, "/stats?filter=^" + name.replace(".", "\\.") + "$");
        for (String line : text.lines().toList()) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError("no stat " + name + " in Envoy admin output: " + text);
    }

    /** The serial of the certificate Envoy presents to the control plane, from its admin {@code /certs}. */
    private BigInteger servingSerial(Pod pod) throws IOException {
        JsonNode certs = JSON.readTree(admin(pod, "/certs"));
        List<String> serials = certs.findValues("cert_chain").stream()
                .flatMap(chain -> chain.findValuesAsText("serial_number").stream())
                .distinct()
                .toList();
        assertThat(serials).as("/certs: %s", certs).hasSize(1);
        return new BigInteger(serials.get(0), 16);
    }

    private static long envoyStarts(Sidecar sidecar) {
        return sidecar.logText()
                .lines()
                .filter(l -> l.contains("starting main dispatch loop"))
                .count();
    }

    private static final int CURL_COULD_NOT_CONNECT = 7;

    private static String admin(Pod pod, String path) {
        return adminRun(pod, path).orFail().stdout();
    }

    private static ProcessRun adminRun(Pod pod, String path) {
        return ProcessRun.run(
                Duration.ofSeconds(20),
                null,
                List.of(
                        "ip",
                        "netns",
                        "exec",
                        pod.netns(),
                        "curl",
                        "-sS",
                        "--max-time",
                        "4",
                        "http://127.0.0.1:15000" + path));
    }

    /** The bootstrap as generated, minus the client certificate: TLS to the control plane, but nothing to prove who it is. */
    private static void withoutClientCertificate(Path bootstrap) throws IOException {
        YAMLMapper yaml = new YAMLMapper();
        JsonNode root = yaml.readTree(bootstrap.toFile());
        ObjectNode tls =
                (ObjectNode) root.at("/static_resources/clusters/0/transport_socket/typed_config/common_tls_context");
        assertThat(tls.remove("tls_certificate_sds_secret_configs"))
                .as("the generated bootstrap had a client certificate")
                .isNotNull();
        yaml.writeValue(bootstrap.toFile(), root);
    }
}
