package io.portcullis.kubernetes.testing;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.JdkServerTls;
import io.portcullis.kubernetes.Enrolment;
import io.portcullis.kubernetes.admission.AdmissionHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A minimal HTTPS admission server for tests, on 127.0.0.1 with a certificate from the given CA: it answers
 * the API server's AdmissionReview on each path with that path's handler. A stand-in for the control plane's
 * admission server until that one serves the handlers; the handlers are the real ones.
 */
public final class WebhookTestServer implements AutoCloseable {

    private final HttpsServer server;
    private final CertificateAuthority ca;

    private WebhookTestServer(HttpsServer server, CertificateAuthority ca) {
        this.server = server;
        this.ca = ca;
    }

    public static WebhookTestServer start(CertificateAuthority ca, Map<String, AdmissionHandler> handlers) {
        try {
            HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            server.setHttpsConfigurator(new HttpsConfigurator(
                    JdkServerTls.serverContext(ca, List.of("127.0.0.1"), Duration.ofHours(1), Clock.systemUTC())));
            handlers.forEach((path, handler) -> server.createContext(path, exchange -> {
                try (exchange) {
                    AdmissionReview review = Serialization.unmarshal(exchange.getRequestBody(), AdmissionReview.class);
                    AdmissionResponse response = handler.review(review.getRequest());
                    response.setUid(review.getRequest().getUid());
                    review.setResponse(response);
                    review.setRequest(null);
                    byte[] body = Serialization.asJson(review).getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", "application/json");
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                } catch (RuntimeException e) {
                    e.printStackTrace();
                    exchange.sendResponseHeaders(500, -1);
                }
            }));
            server.start();
            return new WebhookTestServer(server, ca);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String url(String path) {
        return "https://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /**
     * Registers {@code /inject} as the {@code portcullis-injector} MutatingWebhookConfiguration: pods, CREATE,
     * in the namespaces enrolled in {@code meshName}, failing closed.
     */
    public MutatingWebhookConfiguration registerInjector(KubernetesClient client, String meshName) {
        MutatingWebhookConfiguration configuration = new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName("portcullis-injector")
                .endMetadata()
                .addNewWebhook()
                .withName("inject.portcullis.io")
                .withAdmissionReviewVersions("v1")
                .withSideEffects("NoneOnDryRun")
                .withFailurePolicy("Fail")
                .withTimeoutSeconds(10)
                .withNewClientConfig()
                .withUrl(url("/inject"))
                .withCaBundle(
                        Base64.getEncoder().encodeToString(ca.certificatePem().getBytes(StandardCharsets.US_ASCII)))
                .endClientConfig()
                .withNewNamespaceSelector()
                .addToMatchLabels(Enrolment.MONITORED_BY_LABEL, meshName)
                .endNamespaceSelector()
                .addNewRule()
                .withApiGroups("")
                .withApiVersions("v1")
                .withOperations("CREATE")
                .withResources("pods")
                .endRule()
                .endWebhook()
                .build();
        return client.admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .resource(configuration)
                .serverSideApply();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
