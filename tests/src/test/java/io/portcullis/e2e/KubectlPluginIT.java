package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Namespace;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as a kubectl plugin: installed by {@code scripts/install-kubectl-plugin} into a prefix, found and run
 * by the real kubectl (PORTCULLIS_KUBE_BIN) with that prefix's bin on PATH, against a real API server. Each
 * kubectl runs with an environment of its own: PATH, JAVA_HOME, HOME (empty, so no ~/.kube/config) and, where
 * a test says so, KUBECONFIG, as a user's shell would give them.
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubectlPluginIT {

    private KubeApiServer server;
    private Path prefix;
    private Path home;

    @BeforeAll
    void installThePluginAndStartAnApiServer(@TempDir Path work) throws IOException {
        prefix = work.resolve("prefix");
        home = Files.createDirectories(work.resolve("home"));
        Path installer = Path.of(System.getProperty("portcullis.scripts"), "install-kubectl-plugin");
        // No start-up cache: its training run takes a minute on a busy machine, and PortcullisLauncherIT tests it.
        Run install = run(
                List.of("bash", installer.toString(), "--prefix", prefix.toString(), "--jar", jar(), "--no-cache"),
                Map.of());
        assertThat(install.exitCode()).as(install.toString()).isZero();
        assertThat(Files.getPosixFilePermissions(prefix.resolve("bin/kubectl-portcullis")))
                .contains(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        server = KubeApiServer.start();
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void kubectlPluginListFindsTheInstalledLauncher() {
        Run list = kubectl(Map.of(), "plugin", "list");

        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.stdout())
                .contains(prefix.resolve("bin/kubectl-portcullis").toString());
        assertThat(list.stderr())
                .as("kubectl's warnings (not executable, overshadowed...)")
                .doesNotContain("warning");
    }

    @Test
    void kubectlPortcullisHelpShowsTheUsageUnderTheNameTheUserTyped() {
        Run help = kubectl(Map.of(), "portcullis", "--help");

        assertThat(help.exitCode()).as(help.toString()).isZero();
        assertThat(help.stdout()).startsWith("Usage: kubectl portcullis ").contains("namespace", "translate", "serve");

        Run namespaceHelp = kubectl(Map.of(), "portcullis", "namespace", "--help");
        assertThat(namespaceHelp.stdout()).contains("Usage: kubectl portcullis namespace ", "audit", "enforce");
    }

    @Test
    void kubectlPortcullisNamespaceAddAuditAndListActOnTheClusterOfKubeconfig() {
        server.kubectl("create", "namespace", "curl").orThrow();
        Map<String, String> kubeconfig =
                Map.of("KUBECONFIG", server.kubeconfig().toString());

        Run add = kubectl(kubeconfig, "portcullis", "namespace", "add", "curl");
        assertThat(add.exitCode()).as(add.toString()).isZero();
        assertThat(add.stdout()).isEqualTo("Namespace [curl] successfully added to mesh [fsm]\n");
        Run audit = kubectl(kubeconfig, "portcullis", "namespace", "audit", "curl");
        assertThat(audit.exitCode()).as(audit.toString()).isZero();

        Namespace stored = server.client().namespaces().withName("curl").get();
        assertThat(stored.getMetadata().getLabels()).containsEntry("flomesh.io/monitored-by", "fsm");
        assertThat(stored.getMetadata().getAnnotations()).containsEntry("portcullis.io/egress-mode", "audit");

        Run list = kubectl(kubeconfig, "portcullis", "namespace", "list", "--mesh-name", "fsm");
        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.stdout()).isEqualTo("""
                NAMESPACE   MESH   SIDECAR-INJECTION   EGRESS-MODE
                curl        fsm    enabled             audit
                """);
    }

    @Test
    void kubectlPortcullisTakesKubectlsKubeconfigAndContextOptions(@TempDir Path dir) throws IOException {
        server.kubectl("create", "namespace", "ctx").orThrow();
        server.kubectl("label", "namespace", "ctx", "flomesh.io/monitored-by=ctx-mesh")
                .orThrow();
        // A kubeconfig whose current context is a user the API server does not know: only --context gets in.
        Path twoContexts = dir.resolve("two-contexts");
        Files.writeString(
                twoContexts,
                Files.readString(server.kubeconfig())
                        .replace("current-context: portcullis-test", "current-context: stranger")
                        .replace("contexts:\n", """
                                contexts:
                                - name: stranger
                                  context:
                                    cluster: portcullis-test
                                    user: stranger
                                """)
                        .replace("users:\n", "users:\n- name: stranger\n  user:\n    token: not-a-valid-token\n"));
        String expected = """
                NAMESPACE   MESH       SIDECAR-INJECTION   EGRESS-MODE
                ctx         ctx-mesh   -                   enforce
                """;

        Run currentContext = kubectl(
                Map.of(),
                "portcullis",
                "namespace",
                "list",
                "--kubeconfig",
                twoContexts.toString(),
                "--mesh-name",
                "ctx-mesh");
        assertThat(currentContext.exitCode()).as(currentContext.toString()).isNotZero();
        assertThat(currentContext.stderr())
                .as("one error line, no stack trace")
                .startsWith("error: Could not list namespaces: ")
                .contains("Unauthorized")
                .doesNotContain("\tat ");

        Run withContext = kubectl(
                Map.of(),
                "portcullis",
                "namespace",
                "list",
                "--kubeconfig",
                twoContexts.toString(),
                "--context",
                "portcullis-test",
                "--mesh-name",
                "ctx-mesh");
        assertThat(withContext.exitCode()).as(withContext.toString()).isZero();
        assertThat(withContext.stdout()).isEqualTo(expected);

        Run fromEnvironment = kubectl(
                Map.of("KUBECONFIG", twoContexts.toString()),
                "portcullis",
                "namespace",
                "list",
                "--context",
                "portcullis-test",
                "--mesh-name",
                "ctx-mesh");
        assertThat(fromEnvironment.exitCode()).as(fromEnvironment.toString()).isZero();
        assertThat(fromEnvironment.stdout()).isEqualTo(expected);
    }

    private static String jar() {
        String jar = System.getProperty("portcullis.jar");
        assertThat(jar)
                .as("system property portcullis.jar (set by the tests module's failsafe)")
                .isNotNull();
        assertThat(Path.of(jar)).as("the packaged CLI").exists();
        return jar;
    }

    private Run kubectl(Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>();
        command.add(server.kubectlBinary().toString());
        command.addAll(List.of(args));
        return run(command, environment);
    }

    /** Runs with a clean environment: the plugin's bin first on PATH, the JVM running this test as JAVA_HOME. */
    private Run run(List<String> command, Map<String, String> environment) {
        try {
            Path out = Files.createTempFile("kubectl-plugin", ".out");
            Path err = Files.createTempFile("kubectl-plugin", ".err");
            try {
                ProcessBuilder builder =
                        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
                Map<String, String> env = builder.environment();
                env.clear();
                env.put("PATH", (prefix == null ? "" : prefix.resolve("bin") + ":") + "/usr/bin:/bin");
                env.put("JAVA_HOME", System.getProperty("java.home"));
                env.put("HOME", home.toString());
                env.putAll(environment);
                Process process = builder.start();
                process.getOutputStream().close();
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError("did not finish within 120 s: " + command);
                }
                return new Run(
                        command,
                        process.exitValue(),
                        Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private record Run(List<String> command, int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return String.join(" ", command) + " exited " + exitCode + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }
}
