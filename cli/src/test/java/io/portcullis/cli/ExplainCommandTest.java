package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.debug.DebugAccess;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.testfixtures.EgressManifest;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code portcullis explain} as an operator runs it: the verdict line, the details, the JSON, and the
 * exit codes (0 allowed or would-deny, 1 denied, 2 usage error or undecided), offline from a directory and live
 * from a control plane's debug endpoint, which must answer alike.
 */
class ExplainCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    Path config;

    record Run(int exitCode, String stdout, String stderr) {}

    @BeforeEach
    void writePolicies() throws Exception {
        config = Files.createDirectories(dir.resolve("config"));
        Files.writeString(
                config.resolve("egress.yaml"),
                EgressManifest.named("httpbin-80")
                                .host("httpbin.org")
                                .port(80, "http")
                                .yaml() + "---\n"
                        + EgressManifest.named("postgres")
                                .ipAddress("10.1.0.0/16")
                                .port(5432, "tcp")
                                .yaml());
    }

    private static Run explain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("explain"));
        all.addAll(List.of(args));
        CommandLine command = PortcullisCommand.commandLine();
        command.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int code = command.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void anAllowedRequestPrintsTheVerdictAndPolicyFirstAndExitsZero() {
        Run run = explain("--from", "curl/curl", "--config-dir", config.toString(), "http://httpbin.org/get");
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.stdout().lines().findFirst().orElseThrow())
                .isEqualTo(
                        "ALLOWED: curl/curl -> http httpbin.org:80 GET /get Host httpbin.org by Egress curl/httpbin-80");
        assertThat(run.stdout()).contains("envoy: filter chain egress_http_80, route allow Egress curl/httpbin-80");
    }

    @Test
    void aDeniedRequestNamesTheClosestPolicyAndWhatDiffersAndExitsOne() {
        Run run = explain("--from", "curl/curl", "--config-dir", config.toString(), "http://httpbin.org:8080/get");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stdout())
                .startsWith("DENIED: curl/curl -> http httpbin.org:8080")
                .contains("reason: no Egress policy of curl/curl allows port 8080")
                .contains("closest: http host httpbin.org on port 80 (Egress curl/httpbin-80)")
                .contains("port: policy allows 80; request has 8080");
    }

    @Test
    void inAnAuditedNamespaceWhatWouldBeDeniedSaysWouldDenyAndExitsZeroAsTheTrafficPasses() throws Exception {
        Files.writeString(config.resolve("namespace.yaml"), """
                apiVersion: v1
                kind: Namespace
                metadata: {name: curl, annotations: {portcullis.io/egress-mode: audit}}
                """);
        Run run = explain("--from", "curl/curl", "--config-dir", config.toString(), "http://httpbin.org:8080/get");
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.stdout())
                .startsWith("WOULD-DENY: curl/curl -> http httpbin.org:8080")
                .contains("allowed by audit mode, would be denied: no Egress policy of curl/curl allows port 8080")
                .contains("envoy: filter chain deny")
                .contains("closest: http host httpbin.org on port 80 (Egress curl/httpbin-80)");
        Run json = explain(
                "--from", "curl/curl", "--config-dir", config.toString(), "-o", "json", "http://httpbin.org:8080/get");
        assertThat(json.exitCode()).isZero();
        assertThat(JSON.readTree(json.stdout()).get("verdict").asText()).isEqualTo("would-deny");
    }

    @Test
    void jsonOutputCarriesTheVerdictForMachines() throws Exception {
        Run run = explain("--from", "curl/curl", "--config-dir", config.toString(), "-o", "json", "10.1.2.3:5432");
        assertThat(run.exitCode()).isZero();
        JsonNode json = JSON.readTree(run.stdout());
        assertThat(json.get("verdict").asText()).isEqualTo("allowed");
        assertThat(json.get("policies").get(0).asText()).isEqualTo("Egress curl/postgres");
        assertThat(json.get("chain").asText()).isEqualTo("egress_tcp_5432");
        assertThat(json.get("decidingPolicy").asText())
                .as("as the decision log's policy field")
                .isEqualTo("curl/postgres");
    }

    @Test
    void usageErrorsAndUndecidedTargetsExitTwo() {
        Run noSource = explain("--from", "curl/curl", "http://httpbin.org/");
        // PORTCULLIS_CONFIG_DIR may be set where this runs; then it is a source and this check does not apply.
        if (System.getenv("PORTCULLIS_CONFIG_DIR") == null) {
            assertThat(noSource.exitCode()).isEqualTo(2);
            assertThat(noSource.stderr()).contains("--config-dir DIR").contains("--server URL");
        }
        Run badTarget = explain("--from", "curl/curl", "--config-dir", config.toString(), "httpbin.org");
        assertThat(badTarget.exitCode()).isEqualTo(2);
        assertThat(badTarget.stderr()).contains("host:port");
        Run name = explain("--from", "curl/curl", "--config-dir", config.toString(), "db.internal:5432");
        assertThat(name.exitCode()).isEqualTo(2);
        assertThat(name.stdout()).startsWith("UNDECIDED").contains("--ip");
        Run missingFrom = explain("--config-dir", config.toString(), "http://httpbin.org/");
        assertThat(missingFrom.exitCode()).isEqualTo(2);
    }

    @Test
    void liveFromTheControlPlaneAnswersLikeOfflineAndNeedsTheToken() throws Exception {
        EgressControlPlane controlPlane = new EgressControlPlane();
        try (DirectoryConfigSource source = new DirectoryConfigSource(config, "fsm-system")) {
            controlPlane.apply(source.readOnce());
        }
        Path token = Files.writeString(dir.resolve("token"), "s3cret\n");
        try (DebugEndpoint endpoint = new DebugEndpoint(
                new InetSocketAddress("127.0.0.1", 0),
                controlPlane,
                new SidecarRegistry(controlPlane, Clock.systemUTC()),
                new DebugAccess(Optional.of("s3cret"), Optional.empty(), Set.of()))) {
            endpoint.start();
            String server = "http://127.0.0.1:" + endpoint.address().getPort();
            for (String target : List.of("http://httpbin.org/get", "http://httpbin.org:8080/get", "10.2.0.1:5432")) {
                Run live = explain(
                        "--from",
                        "curl/curl",
                        "--server",
                        server,
                        "--token-file",
                        token.toString(),
                        "-o",
                        "json",
                        target);
                Run offline = explain("--from", "curl/curl", "--config-dir", config.toString(), "-o", "json", target);
                assertThat(live.exitCode()).as(target + " " + live.stderr()).isEqualTo(offline.exitCode());
                JsonNode liveJson = JSON.readTree(live.stdout());
                assertThat(liveJson.get("served").asBoolean())
                        .as("no sidecar connected")
                        .isFalse();
                ((com.fasterxml.jackson.databind.node.ObjectNode) liveJson).remove("served");
                assertThat(liveJson).as(target).isEqualTo(JSON.readTree(offline.stdout()));
            }
            Run withoutToken = explain("--from", "curl/curl", "--server", server, "http://httpbin.org/get");
            assertThat(withoutToken.exitCode()).isEqualTo(2);
            assertThat(withoutToken.stderr()).contains("401").contains("--token-file");
            Run badTarget = explain(
                    "--from",
                    "curl/curl",
                    "--server",
                    server,
                    "--token-file",
                    token.toString(),
                    "http://httpbin.org:0/");
            assertThat(badTarget.exitCode()).isEqualTo(2);
        }
    }
}
