package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.debug.DebugAccess;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.testfixtures.EgressManifest;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
 * {@code portcullis translate} offline and {@code --server}: asked for an identity, a running control plane's
 * debug endpoint gives the report the directory gives (problems, model, xDS), byte for byte, and a server that
 * cannot be asked is one error line naming it.
 */
class TranslateCommandTest {

    private static final String ROUTE_GROUP = """
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata:
              name: httpbin-routes
              namespace: curl
            spec:
              matches:
              - name: get
                pathRegex: /get/[0-9]+
                methods:
                - GET
            """;

    @TempDir
    Path dir;

    Path config;

    record Run(int exitCode, String stdout, String stderr) {}

    @BeforeEach
    void writePolicies() throws Exception {
        config = Files.createDirectories(dir.resolve("config"));
        Files.writeString(
                config.resolve("egress.yaml"),
                ROUTE_GROUP + "---\n"
                        + EgressManifest.named("httpbin-80")
                                .host("httpbin.org")
                                .port(80, "http")
                                .matchesRouteGroup("httpbin-routes")
                                .yaml()
                        + "---\n"
                        + EgressManifest.named("postgres")
                                .ipAddress("10.1.0.0/16")
                                .port(5432, "tcp")
                                .yaml()
                        + "---\n"
                        // A problem the report lists: an Egress naming a route group that does not exist.
                        + EgressManifest.named("broken")
                                .host("example.com")
                                .port(8080, "http")
                                .matchesRouteGroup("no-such-group")
                                .yaml()
                        + "---\n"
                        + EgressManifest.named("other-team")
                                .fromServiceAccount("app", "team-a")
                                .host("example.org")
                                .port(443, "https")
                                .yaml());
    }

    private static Run translate(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("translate"));
        all.addAll(List.of(args));
        String[] commandLine = all.toArray(String[]::new);
        CommandLine command = PortcullisCommand.commandLine(commandLine);
        command.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int code = command.execute(commandLine);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void fromAServerTheReportOfAnIdentityIsTheOfflineReportByteForByte() throws Exception {
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
            for (List<String> identities :
                    List.of(List.of("curl/curl"), List.of("team-a/app", "curl/curl"), List.of("nobody/none"))) {
                List<String> identityOptions = new ArrayList<>();
                identities.forEach(i -> identityOptions.addAll(List.of("--identity", i)));
                List<String> live = new ArrayList<>(List.of("--server", server, "--token-file", token.toString()));
                live.addAll(identityOptions);
                List<String> offline = new ArrayList<>(List.of("--config-dir", config.toString()));
                offline.addAll(identityOptions);

                Run fromServer = translate(live.toArray(String[]::new));
                Run fromFiles = translate(offline.toArray(String[]::new));

                assertThat(fromFiles.exitCode()).as(fromFiles.stderr()).isZero();
                assertThat(fromServer.exitCode()).as(fromServer.stderr()).isZero();
                assertThat(fromFiles.stdout())
                        .as("the report lists the problem")
                        .contains("no-such-group");
                if (identities.contains("curl/curl")) {
                    assertThat(fromFiles.stdout()).as("and the policy").contains("httpbin.org");
                }
                assertThat(fromServer.stdout()).as(identities.toString()).isEqualTo(fromFiles.stdout());
            }
            Run withoutToken = translate("--server", server, "--identity", "curl/curl");
            assertThat(withoutToken.exitCode()).isEqualTo(1);
            assertThat(withoutToken.stdout()).isEmpty();
            assertThat(withoutToken.stderr())
                    .startsWith("error: " + server + "/debug/problems answered 401 (give the bearer token with"
                            + " --token-file)");
        }
    }

    @Test
    void aServerNobodyListensOnIsOneErrorLineNamingItAndWhatToCheck() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String server = "http://127.0.0.1:" + port;

        Run run = translate("--server", server, "--identity", "curl/curl");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr())
                .isEqualTo("error: " + server + "/debug/problems: no control plane answers there (ConnectException);"
                        + " is 'portcullis serve' running with this --debug-port, and --debug-address reachable from"
                        + " here?\n");
    }

    @Test
    void serverOptionsThatCannotWorkTogetherAreUsageErrors() {
        Run noIdentity = translate("--server", "http://127.0.0.1:15080");
        assertThat(noIdentity.exitCode()).isEqualTo(2);
        assertThat(noIdentity.stderr()).contains("--server needs --identity NAMESPACE/SERVICEACCOUNT");

        Run both = translate(
                "--server", "http://127.0.0.1:15080", "--config-dir", config.toString(), "--identity", "curl/curl");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.stderr()).contains("--server and --config-dir");

        Run tokenAlone = translate(
                "--config-dir",
                config.toString(),
                "--token-file",
                dir.resolve("t").toString());
        assertThat(tokenAlone.exitCode()).isEqualTo(2);
        assertThat(tokenAlone.stderr()).contains("--token-file goes with --server");
    }
}
