package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast-starting CLI: {@code scripts/install-cli} into a prefix builds the start-up caches (JDK 25's
 * ahead-of-time caches, or AppCDS before it) with their training runs, one each for the editing commands, the
 * commands that ask a control plane ({@code --server}), the other short commands and {@code serve}; the installed {@code portcullis} launcher hands each command its own
 * and runs the same commands with the same output, exit code and files whether it has caches, has none, or has
 * ones built for another jar. Each command runs with a clean environment (PATH, JAVA_HOME, HOME)
 * as a user's shell would give it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PortcullisLauncherIT {

    private Path work;
    private Path cached;
    private Path uncached;
    private Path home;

    @BeforeAll
    void installWithAndWithoutTheCache(@TempDir Path work) throws IOException {
        this.work = work;
        cached = work.resolve("cached");
        uncached = work.resolve("uncached");
        home = Files.createDirectories(work.resolve("home"));
        Run withCache = run(List.of("bash", installer(), "--prefix", cached.toString(), "--jar", jar()), Map.of());
        assertThat(withCache.exitCode()).as(withCache.toString()).isZero();
        Run withoutCache = run(
                List.of("bash", installer(), "--prefix", uncached.toString(), "--jar", jar(), "--no-cache"), Map.of());
        assertThat(withoutCache.exitCode()).as(withoutCache.toString()).isZero();
    }

    @Test
    void installCliBuildsACacheForTheEditingCommandsTheServerAskingCommandsTheOtherShortCommandsAndServeBesideTheJar() {
        Path lib = cached.resolve("lib/portcullis");
        String extension = Runtime.version().feature() >= 25 ? ".aot" : ".jsa";

        assertThat(lib.resolve("portcullis-store" + extension))
                .as("apply, patch and delete's start-up cache for Java " + Runtime.version())
                .isNotEmptyFile();
        assertThat(lib.resolve("portcullis-commands" + extension))
                .as("the short commands' start-up cache for Java " + Runtime.version())
                .isNotEmptyFile();
        assertThat(lib.resolve("portcullis-serve" + extension))
                .as("serve's start-up cache for Java " + Runtime.version())
                .isNotEmptyFile();
        assertThat(lib.resolve("portcullis-client" + extension))
                .as("translate --server's and explain --server's start-up cache for Java " + Runtime.version())
                .isNotEmptyFile();
        assertThat(lib.resolve("portcullis.cache-key")).isNotEmptyFile();
        assertThat(uncached.resolve("lib/portcullis")).isDirectoryNotContaining("glob:**/portcullis*.{aot,jsa}");
    }

    @Test
    void theLauncherLoadsTheCliAndPicocliClassesFromTheCache() {
        Map<String, String> logClassLoading = Map.of("PORTCULLIS_JAVA_OPTIONS", "-Xlog:class+load=info:stderr");

        Run withCache = portcullis(cached, logClassLoading, "--version");
        Run withoutCache = portcullis(uncached, logClassLoading, "--version");

        assertThat(withCache.exitCode()).as(withCache.toString()).isZero();
        assertThat(withCache.stderr())
                .containsPattern("io\\.portcullis\\.cli\\.PortcullisCommand source: shared")
                // picocli's classes, Java 5 class files in its own jar, are rewritten by the build as Java 8
                // ones (ClassFileUpgrade): a cache cannot hold older ones and each start read them from the jar.
                .containsPattern("picocli\\.CommandLine source: shared")
                .doesNotContainPattern("picocli\\.\\S+ source: (file|jar)");
        assertThat(withoutCache.stderr())
                .contains("io.portcullis.cli.PortcullisCommand source: ")
                .doesNotContainPattern("io\\.portcullis\\.cli\\.PortcullisCommand source: shared");
    }

    @Test
    void serveTrimsTheNativeHeapEverySecondAndTheShortCommandsDoNot() {
        Map<String, String> printFlags = Map.of("PORTCULLIS_JAVA_OPTIONS", "-XX:+PrintFlagsFinal");

        Run serve = portcullis(cached, printFlags, "serve", "--help");
        Run translate = portcullis(cached, printFlags, "translate", "--help");

        assertThat(serve.exitCode()).as(serve.toString()).isZero();
        assertThat(serve.stdout())
                .containsPattern("TrimNativeHeapInterval +=\\s+1000 +\\{product\\} \\{command line\\}");
        assertThat(translate.stdout()).containsPattern("TrimNativeHeapInterval +=\\s+0 +\\{product\\} \\{default\\}");
    }

    @Test
    void applyTranslateTranslateServerAndServeEachStartFromTheirOwnCache() throws IOException {
        // The JVM names the cache it maps: JDK 25 under the aot log tag, older JDKs under cds.
        String tag = Runtime.version().feature() >= 25 ? "aot" : "cds";
        Map<String, String> logCache = Map.of("PORTCULLIS_JAVA_OPTIONS", "-Xlog:" + tag + "=info:stderr");
        Path lib = cached.resolve("lib/portcullis").toRealPath(); // as the launcher names the jar

        Run apply = portcullis(cached, logCache, "apply", "--help");
        Run translate = portcullis(cached, logCache, "translate", "--help");
        Run serve = portcullis(cached, logCache, "serve", "--help");
        Run translateServer = portcullis(cached, logCache, "translate", "--server", "http://127.0.0.1:9", "--help");
        Run explainServer = portcullis(cached, logCache, "explain", "--help", "--server=http://127.0.0.1:9");

        String extension = Runtime.version().feature() >= 25 ? ".aot" : ".jsa";
        Map<Run, String> cacheOf = Map.of(
                apply,
                "portcullis-store",
                translate,
                "portcullis-commands",
                serve,
                "portcullis-serve",
                translateServer,
                "portcullis-client",
                explainServer,
                "portcullis-client");
        cacheOf.forEach((run, cache) -> {
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.stderr())
                    .as(run.toString())
                    .contains(lib.resolve(cache + extension).toString());
            for (String other : cacheOf.values()) {
                if (!other.equals(cache)) {
                    assertThat(run.stderr()).as(run.toString()).doesNotContain(other);
                }
            }
        });
    }

    @Test
    void applyTranslateExplainPatchAndDeleteGiveTheSameOutputWithAndWithoutTheCache() throws IOException {
        assertThat(session(cached, Map.of())).isEqualTo(session(uncached, Map.of()));
    }

    @Test
    void translateThroughTheLauncherPrintsTheReportWithNoJvmWarningOnStderr() throws IOException {
        Path dir = Files.createDirectories(work.resolve("translate-config"));
        Path examples = Path.of(System.getProperty("portcullis.examples"));
        Run apply = portcullis(
                cached,
                Map.of(),
                "apply",
                "-f",
                examples.resolve("01-http-egress.yaml").toString(),
                "--config-dir",
                dir.toString());
        assertThat(apply.exitCode()).as(apply.toString()).isZero();

        Run translate = portcullis(cached, Map.of(), "translate", "--config-dir", dir.toString());

        assertThat(translate.exitCode()).as(translate.toString()).isZero();
        assertThat(translate.stdout()).contains("httpbin.org");
        // JDK 24+ warns about protobuf's sun.misc.Unsafe calls unless the launcher allows them.
        assertThat(translate.stderr()).as(translate.toString()).isEmpty();
    }

    @Test
    void aCacheBuiltForAnotherJarIsIgnoredAndTheCommandsRunUnchanged() throws IOException {
        Path stale = work.resolve("stale");
        Run install = run(List.of("bash", installer(), "--prefix", stale.toString(), "--jar", jar()), Map.of());
        assertThat(install.exitCode()).as(install.toString()).isZero();
        Path jar = stale.resolve("lib/portcullis/portcullis.jar");
        // Another build of the jar: the launcher's key (size, mtime) no longer matches the cache's.
        Files.setLastModifiedTime(jar, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        List<Run> skippedByTheLauncher = session(stale, Map.of());

        // Worse: a key that matches, over a cache of another jar. The JVM itself refuses the cache; its
        // warning must not land in the command's output.
        Files.setLastModifiedTime(jar, FileTime.from(Instant.parse("2021-01-01T00:00:00Z")));
        Run key = portcullis(stale, Map.of("PORTCULLIS_PRINT_CACHE_KEY", "1"));
        Files.writeString(stale.resolve("lib/portcullis/portcullis.cache-key"), key.stdout(), StandardCharsets.UTF_8);
        List<Run> refusedByTheJvm = session(stale, Map.of());

        List<Run> expected = session(uncached, Map.of());
        assertThat(skippedByTheLauncher).isEqualTo(expected);
        assertThat(refusedByTheJvm).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            Run refused = refusedByTheJvm.get(i);
            assertThat(refused.exitCode())
                    .as("exit code of command %d", i)
                    .isEqualTo(expected.get(i).exitCode());
            assertThat(refused.stdout())
                    .as("stdout of command %d", i)
                    .isEqualTo(expected.get(i).stdout());
            assertThat(refused.stderr())
                    .as("stderr of command %d: the JVM's warning, then the command's", i)
                    .endsWith(expected.get(i).stderr());
        }
    }

    @Test
    void theKubectlPluginRunsThroughTheSameLauncherUnderItsOwnName() {
        Path pluginPrefix = work.resolve("plugin");
        Run install = run(
                List.of(
                        "bash",
                        Path.of(System.getProperty("portcullis.scripts"), "install-kubectl-plugin")
                                .toString(),
                        "--prefix",
                        pluginPrefix.toString(),
                        "--jar",
                        jar(),
                        "--no-cache"), // the cache's training is tested above; the plugin only has to reach it
                Map.of());
        assertThat(install.exitCode()).as(install.toString()).isZero();
        assertThat(pluginPrefix.resolve("bin/portcullis"))
                .as("the launcher the plugin runs")
                .isExecutable();

        Run help = run(List.of(pluginPrefix.resolve("bin/kubectl-portcullis").toString(), "--help"), Map.of());

        assertThat(help.exitCode()).as(help.toString()).isZero();
        assertThat(help.stdout()).startsWith("Usage: kubectl portcullis ");
    }

    /**
     * The guide's policies applied one by one, then translated, explained, patched and deleted, in a config
     * directory of the prefix's own, as the results a user sees: exit code, stdout, stderr.
     */
    private List<Run> session(Path prefix, Map<String, String> environment) throws IOException {
        Path configDir = Files.createTempDirectory(work, "config");
        String dir = configDir.toString();
        Path examples = Path.of(System.getProperty("portcullis.examples"));
        List<Run> runs = new ArrayList<>();
        for (String file : List.of(
                "01-http-egress.yaml",
                "02-https-egress.yaml",
                "03-tcp-egress.yaml",
                "04-http-route-group-and-egress.yaml")) {
            runs.add(portcullis(
                    prefix, environment, "apply", "-f", examples.resolve(file).toString(), "--config-dir", dir));
        }
        runs.add(portcullis(prefix, environment, "translate", "--config-dir", dir, "--identity", "curl/curl"));
        runs.add(portcullis(
                prefix, environment, "explain", "--from", "curl/curl", "http://httpbin.org/get", "--config-dir", dir));
        runs.add(portcullis(
                prefix,
                environment,
                "patch",
                "meshconfig",
                "fsm-mesh-config",
                "-n",
                "fsm-system",
                "--config-dir",
                dir,
                "-p",
                Files.readString(examples.resolve("meshconfig-merge-patch.json")),
                "--type=merge"));
        runs.add(portcullis(prefix, environment, "delete", "egress", "httpbin-80", "-n", "curl", "--config-dir", dir));
        runs.add(portcullis(prefix, environment, "translate", "--config-dir", dir));
        // The paths differ between sessions (the config directory; the prefix, which the JDK's warning about
        // protobuf's use of sun.misc.Unsafe names); what a command says about them must not.
        String installed = prefix.toString();
        return runs.stream()
                .map(r -> new Run(
                        List.of(),
                        r.exitCode(),
                        r.stdout().replace(dir, "<config-dir>").replace(installed, "<prefix>"),
                        r.stderr().replace(dir, "<config-dir>").replace(installed, "<prefix>")))
                .toList();
    }

    private Run portcullis(Path prefix, Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>();
        command.add(prefix.resolve("bin/portcullis").toString());
        command.addAll(List.of(args));
        return run(command, environment);
    }

    private static String installer() {
        return Path.of(System.getProperty("portcullis.scripts"), "install-cli").toString();
    }

    private static String jar() {
        String jar = System.getProperty("portcullis.jar");
        assertThat(jar)
                .as("system property portcullis.jar (set by the tests module's failsafe)")
                .isNotNull();
        assertThat(Path.of(jar)).as("the packaged CLI").exists();
        return jar;
    }

    /** Runs with a clean environment: the JVM running this test as JAVA_HOME, an empty HOME. */
    private Run run(List<String> command, Map<String, String> environment) {
        try {
            Path out = Files.createTempFile("portcullis-launcher", ".out");
            Path err = Files.createTempFile("portcullis-launcher", ".err");
            try {
                ProcessBuilder builder =
                        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
                Map<String, String> env = builder.environment();
                env.clear();
                env.put("PATH", "/usr/bin:/bin");
                env.put("JAVA_HOME", System.getProperty("java.home"));
                env.put("HOME", home.toString());
                env.putAll(environment);
                Process process = builder.start();
                process.getOutputStream().close();
                if (!process.waitFor(300, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError("did not finish within 300 s: " + command);
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
