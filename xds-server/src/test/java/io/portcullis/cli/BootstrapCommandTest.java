package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.identity.SpiffeId;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BootstrapCommandTest {

    @TempDir
    Path tmp;

    @Test
    void withACaItIssuesTheSidecarsCertificateAndTheBootstrapRefersToIt() throws Exception {
        Path certs = tmp.resolve("certs");
        Path out = tmp.resolve("envoy.yaml");

        int code = run("bootstrap", "-n", "curl", "--service-account", "sleep", "--pod", "sleep-1", "--xds-host", "198.18.0.1",
                "--ca-dir", tmp.resolve("ca").toString(), "--cert-dir", certs.toString(), "-o", out.toString());

        assertThat(code).isZero();
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(certs.resolve(CertificateDirectory.CERTIFICATE_CHAIN))));
        assertThat(SpiffeId.fromCertificate(cert)).isEqualTo(new SpiffeId("cluster.local", "curl", "sleep"));
        assertThat(Files.readString(certs.resolve(CertificateDirectory.TRUST_BUNDLE)))
                .isEqualTo(Files.readString(tmp.resolve("ca/ca.pem")));
        assertThat(Files.readString(out))
                .contains("path: \"" + certs + "/sds-tls-certificate.yaml\"")
                .contains("san_type: \"IP_ADDRESS\"").contains("exact: \"198.18.0.1\"");
    }

    @Test
    void withoutACertificateDirectoryItIsRefused() {
        StringWriter err = new StringWriter();

        int code = new CommandLine(new PortcullisCommand()).setErr(new PrintWriter(err)).execute("bootstrap", "-n", "curl",
                "--service-account", "curl", "--pod", "curl-1", "--xds-host", "198.18.0.1");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--cert-dir'");
    }

    @Test
    void certIssueRenewsIntoTheSameDirectory() throws Exception {
        Path certs = tmp.resolve("certs");
        String ca = tmp.resolve("ca").toString();
        assertThat(run("cert", "issue", "-n", "curl", "--service-account", "curl", "--ca-dir", ca, "--cert-dir", certs.toString()))
                .isZero();
        String first = Files.readString(certs.resolve(CertificateDirectory.CERTIFICATE_CHAIN));

        assertThat(run("cert", "issue", "-n", "curl", "--service-account", "curl", "--ca-dir", ca, "--cert-dir", certs.toString(),
                "--cert-validity", "1h")).isZero();

        assertThat(Files.readString(certs.resolve(CertificateDirectory.CERTIFICATE_CHAIN))).isNotEqualTo(first);
    }

    private static int run(String... args) {
        return new CommandLine(new PortcullisCommand()).execute(args);
    }
}
