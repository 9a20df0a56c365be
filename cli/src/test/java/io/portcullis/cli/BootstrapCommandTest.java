package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.bootstrap.XdsEndpoint;
import io.portcullis.identity.SpiffeId;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portcullis bootstrap} as an injector calls it: the file it writes is the bootstrap asked for. */
class BootstrapCommandTest {

    private static final SidecarNodeId NODE = new SidecarNodeId("curl", "curl", "curl-1");

    @TempDir
    Path dir;

    @Test
    void oneXdsHostAndPortGiveTheSingleControlPlaneBootstrap() throws Exception {
        Path out = dir.resolve("envoy.yaml");

        int exit = runPlaintext("--xds-host", "10.0.0.5", "--xds-port", "15011", "-o", out.toString());

        assertThat(exit).isZero();
        assertThat(Files.readString(out))
                .isEqualTo(SidecarBootstrap.of(NODE, "10.0.0.5", 15011).toYaml());
    }

    @Test
    void repeatedOrCommaSeparatedXdsHostsListEveryControlPlaneWithItsOwnPortOrTheDefault() throws Exception {
        Path out = dir.resolve("envoy.yaml");

        int exit = runPlaintext(
                "--xds-host", "10.0.0.5", "--xds-host", "10.0.0.6:15011,[fd00::7]:15012", "-o", out.toString());

        assertThat(exit).isZero();
        assertThat(Files.readString(out))
                .isEqualTo(SidecarBootstrap.of(
                                NODE,
                                List.of(
                                        new XdsEndpoint("10.0.0.5", 15010),
                                        new XdsEndpoint("10.0.0.6", 15011),
                                        new XdsEndpoint("fd00::7", 15012)))
                        .toYaml());
    }

    @Test
    void aControlPlaneListedTwiceIsAnErrorAndWritesNothing() {
        Path out = dir.resolve("envoy.yaml");

        int exit = runPlaintext("--xds-host", "10.0.0.5", "--xds-host", "10.0.0.5:15010", "-o", out.toString());

        assertThat(exit).as("a usage error").isEqualTo(2);
        assertThat(out).doesNotExist();
    }

    /** The bootstrap command without certificates (plaintext xDS), with these xDS arguments. */
    private static int runPlaintext(String... xdsArgs) {
        List<String> args = new java.util.ArrayList<>(
                List.of("bootstrap", "-n", "curl", "--service-account", "curl", "--pod", "curl-1"));
        args.addAll(List.of(xdsArgs));
        args.add("--insecure-plaintext-xds");
        return PortcullisCommand.commandLine().execute(args.toArray(String[]::new));
    }

    @Test
    void withACaItIssuesTheSidecarsCertificateAndTheBootstrapRefersToIt() throws Exception {
        Path certs = dir.resolve("certs");
        Path out = dir.resolve("envoy.yaml");

        int code = run(
                "bootstrap",
                "-n",
                "curl",
                "--service-account",
                "sleep",
                "--pod",
                "sleep-1",
                "--xds-host",
                "198.18.0.1",
                "--ca-dir",
                dir.resolve("ca").toString(),
                "--cert-dir",
                certs.toString(),
                "-o",
                out.toString());

        assertThat(code).isZero();
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(
                        Files.readAllBytes(certs.resolve(CertificateDirectory.CERTIFICATE_CHAIN))));
        assertThat(SpiffeId.fromCertificate(cert)).isEqualTo(new SpiffeId("cluster.local", "curl", "sleep"));
        assertThat(Files.readString(certs.resolve(CertificateDirectory.TRUST_BUNDLE)))
                .isEqualTo(Files.readString(dir.resolve("ca/ca.pem")));
        assertThat(Files.readString(out))
                .contains("path: \"" + certs + "/sds-tls-certificate.yaml\"")
                .contains("san_type: \"IP_ADDRESS\"")
                .contains("exact: \"198.18.0.1\"");
    }

    @Test
    void withoutACertificateDirectoryItIsRefused() {
        StringWriter err = new StringWriter();

        int code = PortcullisCommand.commandLine()
                .setErr(new PrintWriter(err))
                .execute(
                        "bootstrap",
                        "-n",
                        "curl",
                        "--service-account",
                        "curl",
                        "--pod",
                        "curl-1",
                        "--xds-host",
                        "198.18.0.1");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--cert-dir'");
    }

    @Test
    void certIssueRenewsIntoTheSameDirectory() throws Exception {
        Path certs = dir.resolve("certs");
        String ca = dir.resolve("ca").toString();
        assertThat(run(
                        "cert",
                        "issue",
                        "-n",
                        "curl",
                        "--service-account",
                        "curl",
                        "--ca-dir",
                        ca,
                        "--cert-dir",
                        certs.toString()))
                .isZero();
        String first = Files.readString(certs.resolve(CertificateDirectory.CERTIFICATE_CHAIN));

        assertThat(run(
                        "cert",
                        "issue",
                        "-n",
                        "curl",
                        "--service-account",
                        "curl",
                        "--ca-dir",
                        ca,
                        "--cert-dir",
                        certs.toString(),
                        "--cert-validity",
                        "1h"))
                .isZero();

        assertThat(Files.readString(certs.resolve(CertificateDirectory.CERTIFICATE_CHAIN)))
                .isNotEqualTo(first);
    }

    private static int run(String... args) {
        return PortcullisCommand.commandLine().execute(args);
    }
}
