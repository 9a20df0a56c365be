package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.PeerAuthentication;
import io.portcullis.identity.SpiffeId;
import io.portcullis.input.ServiceAccountRef;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy writes its identity into the decision logs and the decision counter from its node metadata, so a node is
 * accepted only when that metadata names the identity its certificate proved (or, on a plaintext server, its node
 * id claimed). Each refusal is paired with the node that differs only in what is refused and is accepted.
 */
class SidecarIdentityTest {

    private static final String TRUST_DOMAIN = "cluster.local";
    private static final SidecarNodeId CURL_1 = new SidecarNodeId("curl", "curl", "curl-1");
    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final PeerAuthentication PLAINTEXT = new PeerAuthentication.PlaintextTrustingNodeId("127.0.0.1:1");

    private static PeerAuthentication curlCertificate;

    @BeforeAll
    static void issueCertificate() {
        CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
        curlCertificate = new PeerAuthentication.Certificate(
                ca.issueWorkload(new SpiffeId(TRUST_DOMAIN, "curl", "curl"), Duration.ofHours(1))
                        .certificate(),
                TRUST_DOMAIN,
                "10.0.0.7:40000");
    }

    @Test
    void aNodeAsPortcullisBootstrapWritesItIsAcceptedWithItsCertificatesIdentity() throws Exception {
        assertThat(SidecarIdentity.authenticate(SidecarBootstrap.node(CURL_1), curlCertificate))
                .isEqualTo(CURL);
    }

    @Test
    void aNodeWithoutNamespaceMetadataIsRefusedNamingTheNodeTheKeyAndTheFix() {
        Node node = withMetadata(SidecarBootstrap.META_SERVICE_ACCOUNT, "curl");

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, curlCertificate))
                .isInstanceOfSatisfying(
                        SidecarIdentity.Refused.class,
                        refused -> assertThat(refused.status().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("node id 'sidecar~curl~curl~curl-1' has no metadata 'namespace'")
                .hasMessageContaining("its identity proved by its certificate is curl/curl")
                .hasMessageContaining("portcullis bootstrap");
    }

    @Test
    void aNodeWithoutServiceAccountMetadataIsRefused() {
        Node node = withMetadata(SidecarBootstrap.META_NAMESPACE, "curl");

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, curlCertificate))
                .isInstanceOf(SidecarIdentity.Refused.class)
                .hasMessageContaining("has no metadata 'service_account'");
    }

    @Test
    void aNodeWithoutAnyMetadataIsRefused() {
        Node node = Node.newBuilder().setId(CURL_1.nodeId()).build();

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, curlCertificate))
                .isInstanceOf(SidecarIdentity.Refused.class)
                .hasMessageContaining("has no metadata 'namespace'");
    }

    @Test
    void aNodeWhoseMetadataNamesAnotherNamespaceThanItsCertificateIsRefused() {
        Node node =
                withMetadata(SidecarBootstrap.META_NAMESPACE, "prod", SidecarBootstrap.META_SERVICE_ACCOUNT, "curl");

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, curlCertificate))
                .isInstanceOf(SidecarIdentity.Refused.class)
                .hasMessageContaining("has metadata 'namespace': 'prod', but its identity proved by its certificate"
                        + " is curl/curl")
                .hasMessageContaining("must be 'curl' and 'curl'");
    }

    @Test
    void aNodeWhoseMetadataNamesAnotherServiceAccountThanItsCertificateIsRefused() {
        Node node = withMetadata(
                SidecarBootstrap.META_NAMESPACE, "curl", SidecarBootstrap.META_SERVICE_ACCOUNT, "payments");

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, curlCertificate))
                .isInstanceOf(SidecarIdentity.Refused.class)
                .hasMessageContaining("has metadata 'service_account': 'payments'");
    }

    @Test
    void metadataThatIsNoStringIsRefused() {
        Node node = SidecarBootstrap.node(CURL_1).toBuilder()
                .setMetadata(Struct.newBuilder()
                        .putFields(
                                SidecarBootstrap.META_NAMESPACE,
                                Value.newBuilder().setStringValue("curl").build())
                        .putFields(
                                SidecarBootstrap.META_SERVICE_ACCOUNT,
                                Value.newBuilder().setNumberValue(1).build()))
                .build();

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, curlCertificate))
                .isInstanceOf(SidecarIdentity.Refused.class)
                .hasMessageContaining("has metadata 'service_account' that is no string");
    }

    @Test
    void onAPlaintextServerMetadataAgreeingWithTheNodeIdIsAccepted() throws Exception {
        assertThat(SidecarIdentity.authenticate(SidecarBootstrap.node(CURL_1), PLAINTEXT))
                .isEqualTo(CURL);
    }

    @Test
    void onAPlaintextServerMetadataNamingAnotherIdentityThanTheNodeIdIsRefused() {
        Node node = withMetadata(
                SidecarBootstrap.META_NAMESPACE, "curl", SidecarBootstrap.META_SERVICE_ACCOUNT, "payments");

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, PLAINTEXT))
                .isInstanceOf(SidecarIdentity.Refused.class)
                .hasMessageContaining("has metadata 'service_account': 'payments', but its identity claimed by its "
                        + "node id (plaintext server) is curl/curl");
    }

    @Test
    void onAPlaintextServerANodeWithoutMetadataIsRefused() {
        Node node = Node.newBuilder().setId(CURL_1.nodeId()).build();

        assertThatThrownBy(() -> SidecarIdentity.authenticate(node, PLAINTEXT))
                .isInstanceOf(SidecarIdentity.Refused.class)
                .hasMessageContaining("has no metadata 'namespace'");
    }

    /** curl-1's node with only the given metadata (key, value, key, value...). */
    private static Node withMetadata(String... keysAndValues) {
        Struct.Builder metadata = Struct.newBuilder();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            metadata.putFields(
                    keysAndValues[i],
                    Value.newBuilder().setStringValue(keysAndValues[i + 1]).build());
        }
        return SidecarBootstrap.node(CURL_1).toBuilder().setMetadata(metadata).build();
    }
}
