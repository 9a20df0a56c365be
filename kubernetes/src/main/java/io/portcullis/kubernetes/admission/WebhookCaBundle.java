package io.portcullis.kubernetes.admission;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the mesh CA into the {@code caBundle} of every webhook of the ValidatingWebhookConfiguration
 * {@value WebhookService#VALIDATING_CONFIGURATION} and the MutatingWebhookConfiguration {@value
 * WebhookService#MUTATING_CONFIGURATION}, so the API server trusts the certificate the admission server
 * presents. The configurations themselves come from the install ({@code deploy/}); a missing one is
 * logged and skipped, as is a webhook that already carries this bundle. Replicas sharing one CA write the
 * same bytes, so whichever starts last changes nothing.
 *
 * <p>Needs {@code get} and {@code patch} on both configurations (RBAC with resourceNames).
 */
public final class WebhookCaBundle {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookCaBundle.class);

    /** What was done to one configuration, for the log and for tests. */
    public enum Outcome {
        PATCHED,
        ALREADY_CURRENT,
        MISSING
    }

    public record Published(Outcome validating, Outcome mutating) {}

    private final KubernetesClient client;
    private final String caBundle;

    /** @param caCertificatePem the CA that issues the admission server's certificate, PEM */
    public WebhookCaBundle(KubernetesClient client, String caCertificatePem) {
        this.client = client;
        this.caBundle = Base64.getEncoder().encodeToString(caCertificatePem.getBytes(StandardCharsets.US_ASCII));
    }

    /** @throws KubernetesClientException when the API server refuses (e.g. RBAC), with its message */
    public Published publish() {
        return new Published(validating(), mutating());
    }

    private Outcome validating() {
        var resource = client.admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName(WebhookService.VALIDATING_CONFIGURATION);
        ValidatingWebhookConfiguration current = resource.get();
        if (current == null) {
            return missing("ValidatingWebhookConfiguration", WebhookService.VALIDATING_CONFIGURATION);
        }
        List<String> stale = new ArrayList<>();
        current.getWebhooks().forEach(w -> {
            if (!caBundle.equals(w.getClientConfig().getCaBundle())) {
                stale.add(w.getName());
            }
        });
        if (stale.isEmpty()) {
            return current("ValidatingWebhookConfiguration", WebhookService.VALIDATING_CONFIGURATION);
        }
        resource.edit(c -> {
            c.getWebhooks().forEach(w -> w.getClientConfig().setCaBundle(caBundle));
            return c;
        });
        return patched("ValidatingWebhookConfiguration", WebhookService.VALIDATING_CONFIGURATION, stale);
    }

    private Outcome mutating() {
        var resource = client.admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName(WebhookService.MUTATING_CONFIGURATION);
        MutatingWebhookConfiguration current = resource.get();
        if (current == null) {
            return missing("MutatingWebhookConfiguration", WebhookService.MUTATING_CONFIGURATION);
        }
        List<String> stale = new ArrayList<>();
        current.getWebhooks().forEach(w -> {
            if (!Objects.equals(caBundle, w.getClientConfig().getCaBundle())) {
                stale.add(w.getName());
            }
        });
        if (stale.isEmpty()) {
            return current("MutatingWebhookConfiguration", WebhookService.MUTATING_CONFIGURATION);
        }
        resource.edit(c -> {
            c.getWebhooks().forEach(w -> w.getClientConfig().setCaBundle(caBundle));
            return c;
        });
        return patched("MutatingWebhookConfiguration", WebhookService.MUTATING_CONFIGURATION, stale);
    }

    private static Outcome missing(String kind, String name) {
        LOG.warn(
                "{} {} does not exist, so the API server does not call the webhooks it would hold; apply deploy/"
                        + " (or create it) and restart the control plane to fill in its caBundle",
                kind,
                name);
        return Outcome.MISSING;
    }

    private static Outcome current(String kind, String name) {
        LOG.info("{} {}: caBundle already holds the mesh CA", kind, name);
        return Outcome.ALREADY_CURRENT;
    }

    private static Outcome patched(String kind, String name, List<String> webhooks) {
        LOG.info("{} {}: caBundle of {} set to the mesh CA", kind, name, webhooks);
        return Outcome.PATCHED;
    }
}
