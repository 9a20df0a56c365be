package io.portcullis.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.bootstrap.XdsEndpoint;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.kubernetes.Enrolment;
import io.portcullis.kubernetes.admission.AdmissionHandler;
import io.portcullis.kubernetes.admission.AdmissionWebhooks;
import io.portcullis.kubernetes.admission.PolicyAdmission;
import io.portcullis.kubernetes.admission.WebhookService;
import io.portcullis.kubernetes.injection.InjectorSettings;
import io.portcullis.kubernetes.injection.SidecarInjector;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * serve's admission webhooks, {@code /validate} (Egress, HTTPRouteGroup) and {@code /inject} (pods of enrolled
 * namespaces): only with a Kubernetes API server, since only an API server calls them. They use the one client
 * serve opened for its config source, and do not close it.
 */
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

    @Option(
            names = "--mesh-name",
            defaultValue = Enrolment.DEFAULT_MESH_NAME,
            description = "Mesh whose enrolled namespaces (label " + Enrolment.MONITORED_BY_LABEL
                    + ") get sidecars (default: ${DEFAULT-VALUE}).")
    String meshName;

    @Option(
            names = "--init-image",
            defaultValue = "portcullis/portcullis:0.1.0",
            description = "Image of the injected init container: the portcullis command, sh and iptables-restore"
                    + " (default: ${DEFAULT-VALUE}).")
    String initImage;

    @Option(
            names = "--proxy-image",
            defaultValue = "envoyproxy/envoy:v1.40.0",
            description = "Image of the injected Envoy container (default: ${DEFAULT-VALUE}).")
    String proxyImage;

    @Option(
            names = "--sidecar-xds",
            paramLabel = "HOST:PORT",
            description = "Control plane address the injected sidecars dial; repeatable (default: "
                    + "portcullis-xds.fsm-system.svc:15010).")
    List<String> sidecarXds = new ArrayList<>();

    @Option(
            names = "--cluster-cidr",
            paramLabel = "CIDR",
            description = "The cluster's pod or service CIDR: cluster-internal, so injected sidecars let it bypass"
                    + " egress policy; repeatable.")
    List<String> clusterCidrs = new ArrayList<>();

    @Option(
            names = "--workload-cert-validity",
            defaultValue = "24h",
            converter = DurationConverter.class,
            description = "Validity of the workload certificates the injector issues (default: ${DEFAULT-VALUE}).")
    Duration workloadCertValidity;

    /**
     * The webhooks serve will run: none unless it reads Kubernetes. Started by {@link Webhooks#start()}, so
     * they answer only once the rest of the control plane is up.
     *
     * @throws IllegalArgumentException when serve reads Kubernetes without the mesh CA, or a flag is invalid
     */
    Webhooks open(
            Optional<KubernetesClient> kubernetes,
            Optional<CertificateAuthority> ca,
            String trustDomain,
            Duration validity) {
        if (kubernetes.isEmpty()) {
            return new Webhooks(null, null, Map.of(), validity);
        }
        CertificateAuthority issuer = ca.orElseThrow(() -> new IllegalArgumentException(
                "the admission webhooks' certificate comes from the mesh CA: pass --ca-dir or --ca-cert/--ca-key"));
        List<XdsEndpoint> xds = sidecarXds.isEmpty()
                ? List.of(InjectorSettings.DEFAULT_XDS)
                : sidecarXds.stream()
                        .map(s -> XdsEndpoint.parse(s, InjectorSettings.DEFAULT_XDS.port()))
                        .toList();
        InjectorSettings injector = new InjectorSettings(
                meshName, initImage, proxyImage, xds, clusterCidrs, trustDomain, workloadCertValidity);
        KubernetesClient client = kubernetes.get();
        Map<String, AdmissionHandler> handlers = Map.of(
                WebhookService.VALIDATE_PATH,
                new PolicyAdmission(),
                WebhookService.INJECT_PATH,
                SidecarInjector.on(client, issuer, injector));
        return new Webhooks(client, issuer, handlers, validity);
    }

    final class Webhooks implements AutoCloseable {
        private final KubernetesClient client;
        private final CertificateAuthority ca;
        private final Map<String, AdmissionHandler> handlers;
        private final Duration validity;
        private AdmissionWebhooks running;

        private Webhooks(
                KubernetesClient client,
                CertificateAuthority ca,
                Map<String, AdmissionHandler> handlers,
                Duration validity) {
            this.client = client;
            this.ca = ca;
            this.handlers = handlers;
            this.validity = validity;
        }

        /** Listens, then puts the mesh CA into the webhook configurations' caBundle. */
        void start() throws IOException {
            if (client == null) {
                return;
            }
            running = AdmissionWebhooks.start(
                    new InetSocketAddress(address, port), ca, dnsNames, validity, Clock.systemUTC(), handlers, client);
        }

        @Override
        public void close() {
            if (running != null) {
                running.close();
            }
        }
    }
}
