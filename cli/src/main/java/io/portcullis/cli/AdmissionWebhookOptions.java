package io.portcullis.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.kubernetes.admission.AdmissionHandler;
import io.portcullis.kubernetes.admission.AdmissionWebhooks;
import io.portcullis.kubernetes.admission.PolicyAdmission;
import io.portcullis.kubernetes.admission.WebhookService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** serve's admission webhooks: only with a Kubernetes API server, since only an API server calls them. */
final class AdmissionWebhookOptions {

    @Option(
            names = "--webhook-address",
            defaultValue = "0.0.0.0",
            description = "Address of the HTTPS admission webhooks (default: ${DEFAULT-VALUE}); only with Kubernetes.")
    String address;

    @Option(
            names = "--webhook-port",
            defaultValue = "" + WebhookService.CONTAINER_PORT,
            description = "Port of the HTTPS admission webhooks (default: ${DEFAULT-VALUE}), the target port of"
                    + " Service " + WebhookService.NAME + "; only with Kubernetes.")
    int port;

    @Option(
            names = "--webhook-dns-name",
            paramLabel = "NAME",
            description = "Host name or IP address put in the webhook certificate besides "
                    + WebhookService.NAME + "." + WebhookService.NAMESPACE
                    + ".svc[.cluster.local], for an API server that dials the webhooks by URL; repeatable.")
    List<String> dnsNames = new ArrayList<>();

    /**
     * The webhooks serve will run: none unless it reads Kubernetes. Started by {@link Webhooks#start()}, so
     * they answer only once the rest of the control plane is up.
     *
     * @throws IllegalArgumentException when serve reads Kubernetes without the mesh CA
     */
    Webhooks open(KubernetesApiOptions kubernetes, Optional<CertificateAuthority> ca, Duration validity) {
        if (!kubernetes.enabled()) {
            return new Webhooks(null, null, validity);
        }
        CertificateAuthority issuer = ca.orElseThrow(() -> new IllegalArgumentException(
                "the admission webhooks' certificate comes from the mesh CA: pass --ca-dir or --ca-cert/--ca-key"));
        return new Webhooks(kubernetes.client().orElseThrow(), issuer, validity);
    }

    final class Webhooks implements AutoCloseable {
        private final KubernetesClient client;
        private final CertificateAuthority ca;
        private final Duration validity;
        private AdmissionWebhooks running;

        private Webhooks(KubernetesClient client, CertificateAuthority ca, Duration validity) {
            this.client = client;
            this.ca = ca;
            this.validity = validity;
        }

        /** Listens, then puts the mesh CA into the webhook configurations' caBundle. */
        void start() throws IOException {
            if (client == null) {
                return;
            }
            Map<String, AdmissionHandler> handlers = Map.of(WebhookService.VALIDATE_PATH, new PolicyAdmission());
            running = AdmissionWebhooks.start(
                    new InetSocketAddress(address, port), ca, dnsNames, validity, Clock.systemUTC(), handlers, client);
        }

        @Override
        public void close() {
            if (running != null) {
                running.close();
            }
            if (client != null) {
                client.close();
            }
        }
    }
}
