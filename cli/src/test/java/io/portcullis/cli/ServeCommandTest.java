package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portcullis serve} refuses, before listening, to expose anything unauthenticated. */
class ServeCommandTest {

    @TempDir
    Path tmp;

    @Test
    void aDebugEndpointOnAllAddressesWithoutTokenOrClientCertificatesIsRefusedAtStart() throws Exception {
        Result result = serve("--ca-dir", tmp.resolve("ca").toString(), "--debug-address", "0.0.0.0");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err())
                .contains("the debug endpoint shows every identity's config and may listen on 0.0.0.0 only with"
                        + " authentication: pass --debug-token-file FILE and/or --debug-client-identity");
    }

    @Test
    void anEmptyDebugTokenFileIsRefused() throws Exception {
        Path token = Files.writeString(tmp.resolve("token"), "\n");

        Result result = serve(
                "--ca-dir",
                tmp.resolve("ca").toString(),
                "--debug-address",
                "0.0.0.0",
                "--debug-token-file",
                token.toString());

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("--debug-token-file " + token + " is empty");
    }

    @Test
    void xdsWithoutACaIsRefused() throws Exception {
        Result result = serve();

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err())
                .contains("serve authenticates sidecars with certificates from the mesh CA: pass --ca-dir DIR");
    }

    @Test
    void plaintextXdsIsRefusedOffLoopback() throws Exception {
        Result result = serve("--insecure-plaintext-xds", "--xds-address", "0.0.0.0");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err())
                .contains("--insecure-plaintext-xds lets any client read any identity's config")
                .contains("refused on 0.0.0.0");
    }

    @Test
    void aWildcardXdsAddressNeedsANameForTheServerCertificate() throws Exception {
        Result result = serve("--ca-dir", tmp.resolve("ca").toString(), "--xds-address", "0.0.0.0");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("pass --xds-server-name");
    }

    @Test
    void aConfigDirectoryAndAKubeconfigTogetherAreRefused() throws Exception {
        Path kubeconfig = Files.writeString(tmp.resolve("kubeconfig"), "apiVersion: v1\nkind: Config\n");

        Result result = serve("--ca-dir", tmp.resolve("ca").toString(), "--kubeconfig", kubeconfig.toString());

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err())
                .contains(
                        "--config-dir and --kubeconfig are mutually exclusive: serve reads its config from one source");
    }

    @Test
    void aConfigDirectoryAndInClusterTogetherAreRefused() throws Exception {
        Result result = serve("--ca-dir", tmp.resolve("ca").toString(), "--in-cluster");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("--config-dir and --in-cluster are mutually exclusive");
    }

    @Test
    void aKubeconfigAndInClusterTogetherAreRefused() throws Exception {
        Result result = serveWithoutConfigDir(
                "--ca-dir", tmp.resolve("ca").toString(), "--kubeconfig", "kubeconfig", "--in-cluster");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("--kubeconfig and --in-cluster are mutually exclusive");
    }

    @Test
    void aMissingKubeconfigIsRefusedNamingTheFile() throws Exception {
        Path missing = tmp.resolve("no-such-kubeconfig");

        Result result =
                serveWithoutConfigDir("--ca-dir", tmp.resolve("ca").toString(), "--kubeconfig", missing.toString());

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("--kubeconfig " + missing + " cannot be read");
    }

    @Test
    void inClusterOutsideAPodIsRefused() throws Exception {
        assertThat(System.getenv("KUBERNETES_SERVICE_HOST"))
                .as("this test runs outside a pod")
                .isNull();

        Result result = serveWithoutConfigDir("--ca-dir", tmp.resolve("ca").toString(), "--in-cluster");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err())
                .contains("--in-cluster: this is not a Kubernetes pod")
                .contains("use --kubeconfig FILE");
    }

    @Test
    void withoutAnySourceServeSaysWhichToGive() throws Exception {
        assertThat(System.getenv("PORTCULLIS_CONFIG_DIR")).isNull();

        Result result = serveWithoutConfigDir("--ca-dir", tmp.resolve("ca").toString());

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err())
                .contains("serve needs a config source: --config-dir DIR (or PORTCULLIS_CONFIG_DIR)")
                .contains("--kubeconfig FILE / --in-cluster");
    }

    @Test
    void aLeaseRenewDeadlineNotShorterThanTheLeaseIsRefusedAtStartSayingWhy() throws Exception {
        Result result = serve(
                "--ca-dir", tmp.resolve("ca").toString(), "--lease-duration", "10s", "--lease-renew-deadline", "10s");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err())
                .contains("lease timing must be leaseDuration (PT10S) > renewDeadline (PT10S) > retryPeriod (PT2S) > 0,"
                        + " so a leader that cannot renew steps down before another replica may take the Lease");
    }

    private record Result(int exitCode, String err) {}

    private Result serve(String... extra) {
        List<String> args =
                new ArrayList<>(List.of("--config-dir", tmp.resolve("config").toString()));
        args.addAll(List.of(extra));
        return serveWithoutConfigDir(args.toArray(String[]::new));
    }

    private Result serveWithoutConfigDir(String... extra) {
        List<String> args = new ArrayList<>(List.of("serve", "--xds-port", "0", "--debug-port", "0"));
        args.addAll(List.of(extra));
        if (!args.contains("--xds-address")) {
            args.addAll(List.of("--xds-address", "127.0.0.1"));
        }
        StringWriter err = new StringWriter();
        // A refusal returns at once; should serve start instead, it would block, which fails the test.
        int code = assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> PortcullisCommand.commandLine()
                        .setErr(new PrintWriter(err))
                        .execute(args.toArray(String[]::new)));
        return new Result(code, err.toString());
    }
}
