package io.portcullis.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {

    private static final SpiffeId CURL = new SpiffeId("cluster.local", "curl", "curl");

    @TempDir
    Path tmp;

    @Test
    void issuesAnX509SvidThatChainsToTheCaAndOnlyAuthenticatesClients() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());

        IssuedCertificate svid = ca.issueWorkload(CURL, Duration.ofHours(24));

        X509Certificate cert = svid.certificate();
        validate(cert, ca.certificate(), Instant.now());
        assertThat(cert.getSubjectAlternativeNames())
                .containsExactly(List.of(6, "spiffe://cluster.local/ns/curl/sa/curl"));
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2"); // clientAuth
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(svid.privateKey()).isInstanceOf(ECPrivateKey.class);
        assertThat(((ECPrivateKey) svid.privateKey())
                        .getParams()
                        .getCurve()
                        .getField()
                        .getFieldSize())
                .isEqualTo(256);
        assertThat(Duration.between(
                        cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()))
                .isBetween(Duration.ofHours(24), Duration.ofHours(24).plusMinutes(10));
        assertThat(svid.privateKeyPem()).startsWith("-----BEGIN PRIVATE KEY-----");
    }

    @Test
    void aWorkloadCertificateIsRefusedOnceExpiredAndByAnotherCa() {
        Instant issuedAt = Instant.parse("2026-01-01T00:00:00Z");
        CertificateAuthority ca = CertificateAuthority.generate(Clock.fixed(issuedAt, ZoneOffset.UTC));
        X509Certificate cert = ca.issueWorkload(CURL, Duration.ofHours(1)).certificate();

        assertThatThrownBy(() -> validate(cert, ca.certificate(), issuedAt.plus(Duration.ofHours(2))))
                .isInstanceOf(CertPathValidatorException.class)
                .hasMessage("validity check failed")
                .cause()
                .isInstanceOf(java.security.cert.CertificateExpiredException.class);
        CertificateAuthority other = CertificateAuthority.generate(Clock.fixed(issuedAt, ZoneOffset.UTC));
        assertThatThrownBy(() -> validate(cert, other.certificate(), issuedAt))
                .isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void serverCertificatesNameHostsAndIpAddresses() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());

        X509Certificate cert = ca.issueServer(
                        List.of("portcullis.portcullis-system.svc", "198.18.0.1", "fd00::1"), Duration.ofHours(1))
                .certificate();

        assertThat(cert.getSubjectAlternativeNames())
                .containsExactly(
                        List.of(2, "portcullis.portcullis-system.svc"),
                        List.of(7, "198.18.0.1"),
                        List.of(7, "fd00:0:0:0:0:0:0:1"));
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1"); // serverAuth
    }

    @Test
    void aCaDirectoryIsGeneratedOnceWithAPrivateKeyAndSharedAfterwards() throws Exception {
        Path dir = tmp.resolve("ca");

        CertificateAuthority first = CertificateAuthority.inDirectory(dir, Clock.systemUTC());
        CertificateAuthority second = CertificateAuthority.inDirectory(dir, Clock.systemUTC());

        assertThat(second.certificate()).isEqualTo(first.certificate());
        assertThat(PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve(CertificateAuthority.CA_KEY))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
                .isEqualTo("rwx------");
        validate(second.issueWorkload(CURL, Duration.ofHours(1)).certificate(), first.certificate(), Instant.now());
    }

    @Test
    void theOperatorsCaIsLoadedFromPemFiles() throws Exception {
        CertificateAuthority original = CertificateAuthority.inDirectory(tmp.resolve("ca"), Clock.systemUTC());

        CertificateAuthority loaded = CertificateAuthority.fromFiles(
                tmp.resolve("ca/ca.pem"), tmp.resolve("ca/ca-key.pem"), Clock.systemUTC());

        assertThat(loaded.certificate()).isEqualTo(original.certificate());
    }

    @Test
    void aKeyThatDoesNotBelongToTheCertificateIsRefused() throws Exception {
        CertificateAuthority.inDirectory(tmp.resolve("a"), Clock.systemUTC());
        CertificateAuthority.inDirectory(tmp.resolve("b"), Clock.systemUTC());

        assertThatThrownBy(() -> CertificateAuthority.fromFiles(
                        tmp.resolve("a/ca.pem"), tmp.resolve("b/ca-key.pem"), Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(tmp.resolve("b/ca-key.pem") + " is not the private key of " + tmp.resolve("a/ca.pem"));
    }

    @Test
    void aLeafCertificateIsNotAcceptedAsCa() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
        IssuedCertificate leaf = ca.issueWorkload(CURL, Duration.ofHours(1));
        Files.writeString(tmp.resolve("leaf.pem"), leaf.certificatePem());
        Files.writeString(tmp.resolve("leaf-key.pem"), leaf.privateKeyPem());

        assertThatThrownBy(() -> CertificateAuthority.fromFiles(
                        tmp.resolve("leaf.pem"), tmp.resolve("leaf-key.pem"), Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a CA certificate");
    }

    // JavaUtilDate: PKIXParameters.setDate takes a Date; it stays inside this one helper.
    @SuppressWarnings("JavaUtilDate")
    private static void validate(X509Certificate cert, X509Certificate anchor, Instant at) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        params.setRevocationEnabled(false);
        params.setDate(Date.from(at));
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), params);
    }
}
