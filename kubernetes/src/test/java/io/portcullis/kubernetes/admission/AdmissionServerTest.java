package io.portcullis.kubernetes.admission;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.JdkServerTls;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the API server sees of the admission server: HTTPS from the mesh CA, reviews in, reviews out. */
class AdmissionServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
    private final List<AdmissionRequest> seen = new CopyOnWriteArrayList<>();
    private AdmissionServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start(Clock clock, Duration validity, AdmissionHandler handler) throws Exception {
        server = new AdmissionServer(
                new InetSocketAddress("127.0.0.1", 0),
                JdkServerTls.serverContext(ca, WebhookService.serverNames(List.of("127.0.0.1")), validity, clock),
                Map.of(WebhookService.VALIDATE_PATH, handler));
        server.start();
    }

    private void start() throws Exception {
        start(Clock.systemUTC(), Duration.ofHours(24), request -> {
            seen.add(request);
            return new AdmissionResponseBuilder().withAllowed(true).build();
        });
    }

    @Test
    void answersAReviewWithTheRequestsUidAsAnAdmissionReviewV1() throws Exception {
        start();

        HttpResponse<String> response = post(WebhookService.VALIDATE_PATH, review("0f4b6c6e-uid-1"));

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
        assertThat(body.path("kind").asText()).isEqualTo("AdmissionReview");
        assertThat(body.path("response").path("uid").asText()).isEqualTo("0f4b6c6e-uid-1");
        assertThat(body.path("response").path("allowed").asBoolean()).isTrue();
        assertThat(seen).singleElement().satisfies(r -> {
            assertThat(r.getOperation()).isEqualTo("CREATE");
            assertThat(r.getKind().getKind()).isEqualTo("Egress");
        });
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "not json at all",
                "[]",
                "{}",
                "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}",
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"operation\":\"CREATE\"}}",
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":[1,2]}}"
            })
    void aMalformedReviewIsAnswered400AndNeverReachesTheHandler(String body) throws Exception {
        start();

        HttpResponse<String> response = post(WebhookService.VALIDATE_PATH, body);

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).startsWith("not an admission.k8s.io/v1 AdmissionReview");
        assertThat(seen).isEmpty();
    }

    @Test
    void anUnknownPathIs404AndAGetIs405() throws Exception {
        start();

        assertThat(post("/mutate", review("u")).statusCode()).isEqualTo(404);
        HttpResponse<String> get = client(ca)
                .send(
                        HttpRequest.newBuilder(uri(WebhookService.VALIDATE_PATH))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(seen).isEmpty();
    }

    @Test
    void aHandlerThatFailsIsAnswered500SoTheApiServerAppliesTheFailurePolicy() throws Exception {
        start(Clock.systemUTC(), Duration.ofHours(1), request -> {
            throw new IllegalStateException("boom");
        });

        HttpResponse<String> response = post(WebhookService.VALIDATE_PATH, review("u"));

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body()).contains("boom");
    }

    @Test
    void itsCertificateIsFromTheMeshCaForTheWebhookServiceNamesOverTls13() throws Exception {
        start();

        HttpResponse<String> response = post(WebhookService.VALIDATE_PATH, review("u"));

        var session = response.sslSession().orElseThrow();
        assertThat(session.getProtocol()).isEqualTo("TLSv1.3");
        X509Certificate certificate = (X509Certificate) session.getPeerCertificates()[0];
        List<String> names = new ArrayList<>();
        certificate.getSubjectAlternativeNames().forEach(san -> names.add(String.valueOf(san.get(1))));
        assertThat(names)
                .containsExactly(
                        "portcullis-webhook.fsm-system.svc",
                        "portcullis-webhook.fsm-system.svc.cluster.local",
                        "127.0.0.1");
        assertThat(certificate.getIssuerX500Principal())
                .isEqualTo(ca.certificate().getSubjectX500Principal());
    }

    @Test
    void aClientThatTrustsAnotherCaCannotConnect() throws Exception {
        start();
        CertificateAuthority other = CertificateAuthority.generate(Clock.systemUTC());

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client(other)
                        .send(
                                HttpRequest.newBuilder(uri(WebhookService.VALIDATE_PATH))
                                        .POST(HttpRequest.BodyPublishers.ofString(review("u")))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
        assertThat(seen).isEmpty();
    }

    @Test
    void theCertificateIsRenewedAfterHalfItsValidityWithoutARestart() throws Exception {
        // Issued three hours ago for four hours: still valid now, and past half-life once the clock catches up.
        MovableClock clock = new MovableClock(Instant.now().minus(Duration.ofHours(3)));
        ca = CertificateAuthority.generate(clock);
        start(
                clock,
                Duration.ofHours(4),
                request -> new AdmissionResponseBuilder().withAllowed(true).build());
        X509Certificate first = served();

        clock.now = Instant.now();
        X509Certificate second = served();

        assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        assertThat(second.getNotAfter()).isAfter(first.getNotAfter());
        assertThat(served().getSerialNumber()).as("renewed once, then kept").isEqualTo(second.getSerialNumber());
    }

    private X509Certificate served() throws Exception {
        // A new client each time: no TLS session to resume, so the server presents its certificate afresh.
        HttpResponse<String> response = post(WebhookService.VALIDATE_PATH, review("u"));
        assertThat(response.statusCode()).isEqualTo(200);
        return (X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0];
    }

    private static final class MovableClock extends Clock {
        volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    static String review(String uid) {
        return """
                {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                 "request": {"uid": "%s", "operation": "CREATE", "namespace": "curl", "name": "httpbin",
                   "kind": {"group": "policy.flomesh.io", "version": "v1alpha1", "kind": "Egress"},
                   "resource": {"group": "policy.flomesh.io", "version": "v1alpha1", "resource": "egresses"},
                   "object": {"apiVersion": "policy.flomesh.io/v1alpha1", "kind": "Egress",
                     "metadata": {"name": "httpbin", "namespace": "curl"},
                     "spec": {"sources": [{"kind": "ServiceAccount", "name": "curl", "namespace": "curl"}],
                              "hosts": ["httpbin.org"], "ports": [{"number": 80, "protocol": "http"}]}}}}
                """.formatted(uid);
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return client(ca)
                .send(
                        HttpRequest.newBuilder(uri(path))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("https://127.0.0.1:" + server.address().getPort() + path);
    }

    /** Trusts only {@code trusted}, and checks the host name as the API server does. */
    private static HttpClient client(CertificateAuthority trusted) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", trusted.certificate());
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, factory.getTrustManagers(), null);
        return HttpClient.newBuilder()
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
    }
}
