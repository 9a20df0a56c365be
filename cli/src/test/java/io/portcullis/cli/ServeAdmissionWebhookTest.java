package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfig;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portcullis serve --kubeconfig} runs the admission webhooks: it writes its CA into the webhook
 * configuration, and the real API server then refuses an invalid Egress through it.
 */
@NeedsKubeApiServer
class ServeAdmissionWebhookTest {

    @TempDir
    Path tmp;

    @Test
    void serveWithAKubeconfigPublishesItsCaAndTheApiServerRefusesAnInvalidEgressThroughIt() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        try (KubeApiServer api = KubeApiServer.start()) {
            api.installCrds();
            // The control plane's namespace exists in every install (deploy/ creates it): serve's status
            // writer contends for its Lease there.
            api.kubectl("create", "namespace", "fsm-system").orThrow();
            api.client()
                    .namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("curl")
                            .endMetadata()
                            .build())
                    .create();
            ValidatingWebhookConfiguration configuration = api
                    .client()
                    .load(new java.io.ByteArrayInputStream(
                            Files.readAllBytes(KubeApiServer.deployDirectory().resolve("control-plane/webhooks.yaml"))))
                    .items()
                    .stream()
                    .filter(ValidatingWebhookConfiguration.class::isInstance)
                    .map(ValidatingWebhookConfiguration.class::cast)
                    .findFirst()
                    .orElseThrow();
            for (ValidatingWebhook webhook : configuration.getWebhooks()) {
                webhook.setClientConfig(new WebhookClientConfig(null, null, "https://127.0.0.1:" + port + "/validate"));
            }
            api.client()
                    .admissionRegistration()
                    .v1()
                    .validatingWebhookConfigurations()
                    .resource(configuration)
                    .create();

            Path log = tmp.resolve("serve.log");
            Process serve = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-cp",
                            System.getProperty("java.class.path"),
                            PortcullisCommand.class.getName(),
                            "serve",
                            "--ca-dir",
                            tmp.resolve("ca").toString(),
                            "--xds-address",
                            "127.0.0.1",
                            "--xds-port",
                            "0",
                            "--debug-port",
                            "0",
                            "--kubeconfig",
                            api.kubeconfig().toString(),
                            "--webhook-address",
                            "127.0.0.1",
                            "--webhook-port",
                            String.valueOf(port),
                            "--webhook-dns-name",
                            "127.0.0.1")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            try {
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> assertThat(caBundle(api)).isNotNull());
                String ca = Files.readString(tmp.resolve("ca").resolve("ca.pem"));
                assertThat(caBundle(api))
                        .isEqualTo(Base64.getEncoder().encodeToString(ca.getBytes(StandardCharsets.US_ASCII)));
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> {
                            KubectlResult result = api.kubectlWithStdin("""
                                    apiVersion: policy.flomesh.io/v1alpha1
                                    kind: Egress
                                    metadata: {name: no-hosts, namespace: curl}
                                    spec:
                                      sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                                      ports: [{number: 443, protocol: https}]
                                    """, "apply", "-f", "-");
                            assertThat(result.stderr())
                                    .contains("denied the request: Egress curl/no-hosts is invalid: spec.hosts: empty,"
                                            + " but spec.ports[0] is https");
                        });
                assertThat(Files.readString(log))
                        .contains("MutatingWebhookConfiguration portcullis-injector does not exist")
                        .doesNotContain("Exception");
            } finally {
                serve.destroy();
                serve.waitFor();
            }
        }
    }

    private static String caBundle(KubeApiServer api) {
        List<ValidatingWebhook> webhooks = api.client()
                .admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName("portcullis-validating")
                .get()
                .getWebhooks();
        return webhooks.get(0).getClientConfig().getCaBundle();
    }
}
