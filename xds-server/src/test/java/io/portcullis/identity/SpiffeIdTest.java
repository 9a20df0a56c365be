package io.portcullis.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.input.ServiceAccountRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpiffeIdTest {

    @Test
    void parsesTheKubernetesWorkloadForm() {
        SpiffeId id = SpiffeId.parse("spiffe://cluster.local/ns/curl/sa/sleep");

        assertThat(id).isEqualTo(new SpiffeId("cluster.local", "curl", "sleep"));
        assertThat(id.serviceAccountRef()).isEqualTo(new ServiceAccountRef("curl", "sleep"));
        assertThat(id.uri()).isEqualTo("spiffe://cluster.local/ns/curl/sa/sleep");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "spiffe://cluster.local/ns/curl",
                "https://cluster.local/ns/curl/sa/curl",
                "spiffe://cluster.local/ns/curl/sa/curl/extra",
                "spiffe://cluster.local/sa/curl/ns/curl",
                "spiffe://Cluster.Local/ns/curl/sa/curl",
                "spiffe://cluster.local/ns/Curl/sa/curl",
                "spiffe:///ns/curl/sa/curl"
            })
    void refusesAnythingElse(String uri) {
        assertThatThrownBy(() -> SpiffeId.parse(uri)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsTheUriSanOfAWorkloadCertificate() {
        CertificateAuthority ca = CertificateAuthority.generate(java.time.Clock.systemUTC());
        IssuedCertificate cert =
                ca.issueWorkload(new SpiffeId("example.org", "shop", "cart"), java.time.Duration.ofHours(1));

        assertThat(SpiffeId.fromCertificate(cert.certificate())).isEqualTo(new SpiffeId("example.org", "shop", "cart"));
    }

    @Test
    void aCertificateWithoutSpiffeIdSaysSo() {
        CertificateAuthority ca = CertificateAuthority.generate(java.time.Clock.systemUTC());
        IssuedCertificate server =
                ca.issueServer(java.util.List.of("xds.example", "10.0.0.1"), java.time.Duration.ofHours(1));

        assertThatThrownBy(() -> SpiffeId.fromCertificate(server.certificate()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has 0 URI SANs")
                .hasMessageContaining("exactly one SPIFFE ID");
    }
}
