package io.portcullis.kubernetes.admission;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.JdkServerTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admission webhooks as {@code portcullis serve} runs them on Kubernetes: the HTTPS server with a
 * certificate from the mesh CA for the webhook Service's names (renewed in memory at half-life, no
 * restart), then the CA in the webhook configurations' {@code caBundle}.
 */
public final class AdmissionWebhooks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdmissionWebhooks.class);

    private final AdmissionServer server;

    private AdmissionWebhooks(AdmissionServer server) {
        this.server = server;
    }

    /**
     * @param extraServerNames host names or IP addresses beyond the Service's DNS names, for a webhook the API
     *     server reaches some other way (clientConfig.url)
     * @param handlers by path; {@link WebhookService#VALIDATE_PATH} and {@link WebhookService#INJECT_PATH}
     */
    public static AdmissionWebhooks start(
            InetSocketAddress address,
            CertificateAuthority ca,
            List<String> extraServerNames,
            Duration certificateValidity,
            Clock clock,
            Map<String, AdmissionHandler> handlers,
            KubernetesClient client)
            throws IOException {
        List<String> names = WebhookService.serverNames(extraServerNames);
        AdmissionServer server = new AdmissionServer(
                address, JdkServerTls.serverContext(ca, names, certificateValidity, clock), handlers);
        server.start();
        LOG.info("admission server certificate names {}", names);
        try {
            new WebhookCaBundle(client, ca.certificatePem()).publish();
        } catch (KubernetesClientException e) {
            // The webhooks then fail as their failurePolicy says; serving xDS goes on regardless.
            LOG.error(
                    "cannot put the mesh CA into the caBundle of {} / {}: {} (the control plane needs get and patch"
                            + " on both; see deploy/)",
                    WebhookService.VALIDATING_CONFIGURATION,
                    WebhookService.MUTATING_CONFIGURATION,
                    e.getMessage());
        }
        return new AdmissionWebhooks(server);
    }

    public InetSocketAddress address() {
        return server.address();
    }

    @Override
    public void close() {
        server.close();
    }
}
