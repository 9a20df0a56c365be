package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateDirectoryTest {

    @TempDir
    Path tmp;

    @Test
    void publishesEveryFileBehindTheDataLinkWithAPrivateKey() throws IOException {
        CertificateDirectory certs = new CertificateDirectory(tmp.resolve("certs"));

        certs.publish("CHAIN-1", "KEY-1", "CA-1", OptionalInt.empty());

        assertThat(certs.published()).isTrue();
        assertThat(Files.readString(certs.file(CertificateDirectory.CERTIFICATE_CHAIN)))
                .isEqualTo("CHAIN-1");
        assertThat(Files.readString(certs.file(CertificateDirectory.PRIVATE_KEY)))
                .isEqualTo("KEY-1");
        assertThat(Files.readString(certs.file(CertificateDirectory.TRUST_BUNDLE)))
                .isEqualTo("CA-1");
        assertThat(Files.readString(certs.file(CertificateDirectory.TLS_CERTIFICATE_SDS)))
                .isEqualTo(certs.tlsCertificateSdsFile());
        assertThat(Files.readString(certs.file(CertificateDirectory.VALIDATION_CONTEXT_SDS)))
                .isEqualTo(certs.validationContextSdsFile());
        assertThat(Files.readSymbolicLink(certs.file(CertificateDirectory.PRIVATE_KEY)))
                .isEqualTo(Path.of("..data", "key.pem"));
        assertThat(PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(certs.file(CertificateDirectory.PRIVATE_KEY))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(certs.file(CertificateDirectory.CERTIFICATE_CHAIN))))
                .isEqualTo("rw-r--r--");
    }

    @Test
    void republishingSwapsTheWholeSetAndRemovesTheOldOne() throws IOException {
        CertificateDirectory certs = new CertificateDirectory(tmp.resolve("certs"));
        certs.publish("CHAIN-1", "KEY-1", "CA-1", OptionalInt.empty());
        Path first = Files.readSymbolicLink(certs.file("..data"));

        certs.publish("CHAIN-2", "KEY-2", "CA-2", OptionalInt.empty());

        assertThat(Files.readSymbolicLink(certs.file("..data"))).isNotEqualTo(first);
        assertThat(Files.readString(certs.file(CertificateDirectory.CERTIFICATE_CHAIN)))
                .isEqualTo("CHAIN-2");
        assertThat(Files.readString(certs.file(CertificateDirectory.PRIVATE_KEY)))
                .isEqualTo("KEY-2");
        try (Stream<Path> entries = Files.list(certs.dir())) {
            assertThat(entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("..20")))
                    .containsExactly(
                            Files.readSymbolicLink(certs.file("..data")).toString());
        }
    }

    @Test
    void sdsFilesNameTheFilesOfThisDirectoryAndWatchIt() {
        CertificateDirectory certs = new CertificateDirectory(Path.of("/run/pod/certs/"));

        assertThat(certs.tlsCertificateSdsFile())
                .contains(
                        "filename: \"/run/pod/certs/cert-chain.pem\"",
                        "filename: \"/run/pod/certs/key.pem\"",
                        "watched_directory:",
                        "path: \"/run/pod/certs\"");
        assertThat(certs.tlsCertificateSds()
                        .getSdsConfig()
                        .getPathConfigSource()
                        .getWatchedDirectory()
                        .getPath())
                .isEqualTo("/run/pod/certs");
        assertThat(certs.validationContextSds()
                        .getSdsConfig()
                        .getPathConfigSource()
                        .getPath())
                .isEqualTo("/run/pod/certs/sds-validation-context.yaml");
    }

    @Test
    void refusesARelativeDirectoryEnvoyWouldResolveElsewhere() {
        assertThatThrownBy(() -> new CertificateDirectory(Path.of("certs")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("certificate directory 'certs' must be an absolute path");
    }
}
