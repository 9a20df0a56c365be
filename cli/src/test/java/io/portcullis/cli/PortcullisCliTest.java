package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.testfixtures.EgressManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The real {@code portcullis} program (its {@code main}, in a JVM of its own) on hostile input: what
 * the operator sees is one problem per file naming it and the fix, and an exit code, never a Java
 * stack trace.
 */
class PortcullisCliTest {

    private static final String EGRESS = EgressManifest.named("httpbin-80")
            .host("httpbin.org")
            .port(80, "http")
            .yaml();
    /** The guide's Egress with a Latin-1 é in a comment: one byte 0xE9, not UTF-8. */
    private static final byte[] LATIN1_EGRESS = ("# caf\u00e9\n" + EGRESS).getBytes(StandardCharsets.ISO_8859_1);

    @TempDir
    Path dir;

    record Run(int exitCode, String stdout, String stderr) {

        Run hasNoStackTrace() {
            for (String output : List.of(stdout, stderr)) {
                assertThat(output)
                        .doesNotContain("\tat ")
                        .doesNotContain("Exception")
                        .doesNotContain("Caused by");
            }
            return this;
        }
    }

    private static Run portcullis(String... args) throws IOException, InterruptedException {
        return portcullis(Map.of(), args);
    }

    /** {@code portcullis args} with {@code environment} added to this JVM's. */
    private static Run portcullis(Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                PortcullisCommand.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().putAll(environment);
        Process process = builder.start();
        var stdout = process.getInputStream().readAllBytes();
        var stderr = process.getErrorStream().readAllBytes();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("portcullis exits").isTrue();
        return new Run(
                process.exitValue(),
                new String(stdout, StandardCharsets.UTF_8),
                new String(stderr, StandardCharsets.UTF_8));
    }

    @Test
    void translateReportsANonUtf8FileByNameTranslatesTheOthersAndExitsOne() throws Exception {
        Files.writeString(
                dir.resolve("good.yaml"), EGRESS.replace("httpbin-80", "good").replace("httpbin.org", "good.example"));
        Files.write(dir.resolve("latin1.yaml"), LATIN1_EGRESS);

        Run run = portcullis("translate", "--config-dir", dir.toString()).hasNoStackTrace();

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr())
                .contains("problem: latin1.yaml: not valid UTF-8: byte 0xE9 at line 1, column 6")
                .contains("re-save the file as UTF-8");
        assertThat(run.stdout()).contains("good.example").doesNotContain("httpbin.org");
    }

    @Test
    void translateOfACleanDirectoryExitsZero() throws Exception {
        Files.writeString(dir.resolve("good.yaml"), EGRESS);

        Run run = portcullis("translate", "--config-dir", dir.toString()).hasNoStackTrace();

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.stdout()).contains("httpbin.org");
    }

    @Test
    void translateOfAMissingDirectorySaysSoInOneLine() throws Exception {
        Run run = portcullis("translate", "--config-dir", dir.resolve("nowhere").toString())
                .hasNoStackTrace();

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr()).isEqualTo("error: " + dir.resolve("nowhere") + ": no such file or directory\n");
    }

    @Test
    void applyOfHostileFilesAppliesNothingAndNamesTheFileAndTheFix() throws Exception {
        Path config = dir.resolve("config");
        Path latin1 = Files.write(dir.resolve("latin1.yaml"), LATIN1_EGRESS);
        Path alias = Files.writeString(
                dir.resolve("alias.yaml"), EGRESS.replace("- httpbin.org", "- &h httpbin.org\n  - *h"));

        Run notUtf8 = portcullis("apply", "-f", latin1.toString(), "--config-dir", config.toString())
                .hasNoStackTrace();
        Run aliased = portcullis("apply", "-f", alias.toString(), "--config-dir", config.toString())
                .hasNoStackTrace();
        Run missing = portcullis(
                        "apply", "-f", dir.resolve("missing.yaml").toString(), "--config-dir", config.toString())
                .hasNoStackTrace();

        assertThat(notUtf8.exitCode()).isEqualTo(1);
        assertThat(notUtf8.stderr()).startsWith("error: nothing applied:\n  " + latin1 + ": not valid UTF-8");
        assertThat(aliased.exitCode()).isEqualTo(1);
        assertThat(aliased.stderr())
                .contains(alias + ": document 1: YAML alias *h at line 13: aliases are not supported");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr())
                .isEqualTo("error: " + dir.resolve("missing.yaml") + ": no such file or directory\n");
        assertThat(config).doesNotExist();
    }

    @Test
    void deleteAndPatchBesideAnUnreadableFileNameItInsteadOfFailing() throws Exception {
        Files.write(dir.resolve("latin1.yaml"), LATIN1_EGRESS);
        Path applied = Files.writeString(dir.resolve("egress.curl.other.yaml"), EGRESS.replace("httpbin-80", "other"));
        Files.write(applied, ("# \u00e9\n" + Files.readString(applied)).getBytes(StandardCharsets.ISO_8859_1));

        Run delete = portcullis("delete", "egress", "httpbin-80", "-n", "curl", "--config-dir", dir.toString())
                .hasNoStackTrace();
        Run patch = portcullis(
                        "patch",
                        "egress",
                        "other",
                        "-n",
                        "curl",
                        "--config-dir",
                        dir.toString(),
                        "-p",
                        "{\"spec\":{\"hosts\":[\"example.com\"]}}")
                .hasNoStackTrace();

        assertThat(delete.exitCode()).isEqualTo(1);
        assertThat(delete.stderr())
                .startsWith("error: NotFound: Egress curl/httpbin-80 does not exist in " + dir)
                .contains("these files do not read cleanly and may hold it: egress.curl.other.yaml, latin1.yaml");
        assertThat(patch.exitCode()).isEqualTo(1);
        assertThat(patch.stderr())
                .startsWith("error: " + applied + " cannot be patched, it does not read cleanly:")
                .contains("not valid UTF-8")
                .contains("fix the file, or delete it and apply the resource again");
    }

    @Test
    void everyCommandTakesItsConfigDirFromPortcullisConfigDirWhenTheOptionIsAbsent() throws Exception {
        Path config = dir.resolve("config");
        Path manifest = Files.writeString(dir.resolve("egress.yaml"), EGRESS);
        Map<String, String> env = Map.of("PORTCULLIS_CONFIG_DIR", config.toString());

        Run apply = portcullis(env, "apply", "-f", manifest.toString()).hasNoStackTrace();
        assertThat(apply.exitCode()).as(apply.stderr()).isZero();
        assertThat(config.resolve("egress.curl.httpbin-80.yaml")).exists();

        Run patch = portcullis(
                        env,
                        "patch",
                        "egress",
                        "httpbin-80",
                        "-n",
                        "curl",
                        "-p",
                        "{\"spec\":{\"hosts\":[\"patched.example\"]}}")
                .hasNoStackTrace();
        assertThat(patch.exitCode()).as(patch.stderr()).isZero();

        Run translate = portcullis(env, "translate").hasNoStackTrace();
        assertThat(translate.exitCode()).as(translate.stderr()).isZero();
        assertThat(translate.stdout()).contains("patched.example");

        // serve gets past option parsing to its first check of the other options, which refuses (so it never listens).
        Run serve = portcullis(env, "serve", "--insecure-plaintext-xds", "--xds-address", "0.0.0.0")
                .hasNoStackTrace();
        assertThat(serve.exitCode()).isEqualTo(2);
        assertThat(serve.stderr())
                .doesNotContain("Missing required option")
                .contains("--insecure-plaintext-xds lets any client");

        Run delete =
                portcullis(env, "delete", "egress", "httpbin-80", "-n", "curl").hasNoStackTrace();
        assertThat(delete.exitCode()).as(delete.stderr()).isZero();
        assertThat(config.resolve("egress.curl.httpbin-80.yaml")).doesNotExist();
    }

    @Test
    void everyCommandWithAConfigDirOptionDefaultsItToPortcullisConfigDir() {
        var withConfigDir = PortcullisCommand.commandLine().getSubcommands().values().stream()
                .filter(c -> c.getCommandSpec().findOption("--config-dir") != null)
                .toList();

        assertThat(withConfigDir)
                .extracting(CommandLine::getCommandName)
                .contains("serve", "translate", "apply", "patch", "delete");
        assertThat(withConfigDir)
                .allSatisfy(c -> assertThat(
                                c.getCommandSpec().findOption("--config-dir").defaultValueString(false))
                        .as(c.getCommandName())
                        .isEqualTo("${env:PORTCULLIS_CONFIG_DIR}"));
    }

    @Test
    void iptablesRefusesAnOutboundPortNoListenerBinds() throws Exception {
        Run run = portcullis("iptables", "--outbound-port", "15002").hasNoStackTrace();

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stdout()).as("no rules printed").isEmpty();
        assertThat(run.stderr())
                .isEqualTo(
                        "error: --outbound-port 15002: the sidecar's outbound listener binds port "
                                + "15001 only (it comes over xDS, the same for every sidecar); omit --outbound-port or pass 15001\n");
    }

    @Test
    void iptablesRedirectsToThePortTheOutboundListenerBinds() throws Exception {
        Run defaults = portcullis("iptables");
        Run explicit = portcullis("iptables", "--outbound-port", String.valueOf(SidecarContract.OUTBOUND_PORT));

        assertThat(defaults.exitCode()).isZero();
        assertThat(defaults.stdout()).contains("-j REDIRECT --to-ports " + SidecarContract.OUTBOUND_PORT + "\n");
        assertThat(explicit.stdout()).isEqualTo(defaults.stdout());
    }
}
