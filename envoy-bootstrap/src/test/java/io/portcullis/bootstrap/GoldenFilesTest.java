/*
 * Golden-file tests: the exact text Portcullis emits is checked in under
 * envoy-bootstrap/src/test/resources/golden/ so that every change to it shows up in review.
 *
 * After an INTENDED change, regenerate the files and review the diff:
 *
 *   mvn -B -ntp -pl envoy-bootstrap -am test -Dtest=GoldenFilesTest -Dsurefire.failIfNoSpecifiedTests=false -Dportcullis.updateGolden=true
 *
 * With that system property set the tests rewrite the golden files instead of comparing (and pass).
 */
package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class GoldenFilesTest {

    static final Path GOLDEN_DIR = Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "golden");

    private static final boolean UPDATE = Boolean.getBoolean("portcullis.updateGolden");

    private static final SidecarNodeId NODE = new SidecarNodeId("shop", "cart", "cart-7d9f8c-x2k4q");

    @Test
    void bootstrapWithDnsXdsHost() throws IOException {
        SidecarBootstrap sb = SidecarBootstrap.of(NODE, "portcullis-xds.portcullis-system.svc", 18000);
        check("bootstrap-dns.yaml", sb.toYaml());
        check("bootstrap-dns.json", sb.toJson());
    }

    @Test
    void bootstrapWithIpXdsHost() throws IOException {
        check(
                "bootstrap-static.yaml",
                SidecarBootstrap.of(NODE, "10.96.0.10", 18000).toYaml());
    }

    /** The paths the Kubernetes injector mounts the certificate Secret at. */
    static final CertificateDirectory CERTS = new CertificateDirectory(Path.of("/etc/portcullis/certs"));

    @Test
    void bootstrapWithMutualTlsToXds() throws IOException {
        check(
                "bootstrap-mtls.yaml",
                SidecarBootstrap.of(NODE, "portcullis-xds.portcullis-system.svc", 18000)
                        .withXdsCertificates(CERTS)
                        .toYaml());
        check(
                "bootstrap-mtls-ip.yaml",
                SidecarBootstrap.of(NODE, "10.96.0.10", 18000)
                        .withXdsCertificates(CERTS)
                        .toYaml());
    }

    @Test
    void sdsFilesOfTheCertificateDirectory() throws IOException {
        check("sds-tls-certificate.yaml", CERTS.tlsCertificateSdsFile());
        check("sds-validation-context.yaml", CERTS.validationContextSdsFile());
    }

    @Test
    void bootstrapWithTwoControlPlanes() throws IOException {
        check(
                "bootstrap-two-control-planes.yaml",
                SidecarBootstrap.of(
                                NODE,
                                List.of(new XdsEndpoint("10.96.0.10", 15010), new XdsEndpoint("10.96.0.11", 15010)))
                        .toYaml());
        // Over mTLS a server certificate naming any listed host is accepted; one DNS name gives the SNI.
        check(
                "bootstrap-mtls-two-control-planes.yaml",
                SidecarBootstrap.of(
                                NODE,
                                List.of(
                                        new XdsEndpoint("portcullis-xds.portcullis-system.svc", 15010),
                                        new XdsEndpoint("10.96.0.11", 15010)))
                        .withXdsCertificates(CERTS)
                        .toYaml());
    }

    @Test
    void iptablesRestoreText() throws IOException {
        check(
                "iptables-restore.txt",
                new InterceptionRules(1337, 15001, List.of("10.0.0.0/8", "169.254.169.254/32")).toIptablesRestore());
    }

    /** Every golden file, so EnvoyValidationTest can prove the checked-in bootstraps are valid too. */
    static List<Path> goldenBootstraps() {
        return List.of(
                GOLDEN_DIR.resolve("bootstrap-dns.yaml"),
                GOLDEN_DIR.resolve("bootstrap-dns.json"),
                GOLDEN_DIR.resolve("bootstrap-static.yaml"),
                GOLDEN_DIR.resolve("bootstrap-two-control-planes.yaml"),
                GOLDEN_DIR.resolve("bootstrap-mtls.yaml"),
                GOLDEN_DIR.resolve("bootstrap-mtls-ip.yaml"),
                GOLDEN_DIR.resolve("bootstrap-mtls-two-control-planes.yaml"));
    }

    private static void check(String name, String actual) throws IOException {
        Path file = GOLDEN_DIR.resolve(name);
        if (UPDATE) {
            Files.createDirectories(GOLDEN_DIR);
            Files.writeString(file, actual);
            return;
        }
        if (!Files.exists(file)) {
            fail("golden file " + file + " is missing; create it with -Dportcullis.updateGolden=true");
        }
        // Normalise line endings so a checkout with CRLF does not fail for no reason.
        String expected = Files.readString(file).replace("\r\n", "\n");
        assertThat(actual)
                .as(
                        "%s differs from the generated text; if the change is intended, rerun with"
                                + " -Dportcullis.updateGolden=true and review the diff",
                        file)
                .isEqualTo(expected);
    }
}
