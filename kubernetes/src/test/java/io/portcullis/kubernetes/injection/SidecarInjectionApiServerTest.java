package io.portcullis.kubernetes.injection;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.bootstrap.XdsEndpoint;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.SpiffeId;
import io.portcullis.kubernetes.Enrolment;
import io.portcullis.kubernetes.NamespaceEnrolment;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import io.portcullis.kubernetes.testing.WebhookTestServer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The injector called by a real API server: pods created with {@code kubectl create} are read back as the API
 * server stored them.
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SidecarInjectionApiServerTest {

    private KubeApiServer server;
    private WebhookTestServer webhook;
    private KubernetesClient client;

    @BeforeAll
    void start() {
        server = KubeApiServer.start();
        client = server.client();
        CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
        InjectorSettings settings = new InjectorSettings(
                Enrolment.DEFAULT_MESH_NAME,
                "portcullis/portcullis:test",
                "envoyproxy/envoy:v1.40.0",
                List.of(new XdsEndpoint("portcullis-xds.fsm-system.svc", 15010)),
                List.of("10.96.0.0/12"),
                SpiffeId.DEFAULT_TRUST_DOMAIN,
                Duration.ofHours(24));
        SidecarInjector injector = new SidecarInjector(
                settings, new SidecarSecrets(ca, settings, Clock.systemUTC()), new ApiServerInjectorCluster(client));
        webhook = WebhookTestServer.start(ca, Map.of("/inject", injector));
        webhook.registerInjector(client, Enrolment.DEFAULT_MESH_NAME);
        for (String ns : List.of("curl", "plain", "later")) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(ns)
                            .endMetadata()
                            .build())
                    .create();
            for (String sa : List.of("default", "curl")) {
                client.serviceAccounts()
                        .inNamespace(ns)
                        .resource(new ServiceAccountBuilder()
                                .withNewMetadata()
                                .withName(sa)
                                .endMetadata()
                                .build())
                        .create();
            }
        }
        assertThat(new NamespaceEnrolment(client).add(List.of("curl"), "fsm", false))
                .containsExactly("Namespace [curl] successfully added to mesh [fsm]");
    }

    @AfterAll
    void stop() {
        if (webhook != null) {
            webhook.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aPodCreatedWithKubectlInAnEnrolledNamespaceIsStoredWithItsSidecarAndItsCertificateSecret() {
        Pod stored = create("curl", "curl-1", "curl", Map.of());

        assertThat(stored.getSpec().getInitContainers())
                .extracting(Container::getName)
                .containsExactly(SidecarTemplate.INIT_CONTAINER);
        assertThat(stored.getSpec().getContainers())
                .extracting(Container::getName)
                .containsExactly("app", SidecarTemplate.SIDECAR_CONTAINER);
        Container envoy = stored.getSpec().getContainers().get(1);
        assertThat(envoy.getSecurityContext().getRunAsUser()).isEqualTo(1337L);
        assertThat(stored.getSpec().getVolumes())
                .filteredOn(v -> v.getSecret() != null)
                .extracting(v -> v.getSecret().getSecretName())
                .contains("portcullis-sidecar-curl");
        Secret secret = client.secrets()
                .inNamespace("curl")
                .withName("portcullis-sidecar-curl")
                .get();
        assertThat(secret).as("the certificate Secret the pod mounts").isNotNull();
        assertThat(secret.getMetadata().getAnnotations())
                .containsEntry(SidecarSecrets.SPIFFE_ANNOTATION, "spiffe://cluster.local/ns/curl/sa/curl");
    }

    @Test
    void aPodThatOptsOutIsStoredUntouched() {
        Pod stored = create("curl", "opted-out", "curl", Map.of(Enrolment.SIDECAR_INJECTION_ANNOTATION, "disabled"));
        assertThat(stored.getSpec().getInitContainers()).isEmpty();
        assertThat(stored.getSpec().getContainers())
                .extracting(Container::getName)
                .containsExactly("app");
    }

    @Test
    void aPodOfANamespaceNotEnrolledIsStoredUntouched() {
        Pod stored = create("plain", "plain-1", "default", Map.of());
        assertThat(stored.getSpec().getInitContainers()).isEmpty();
        assertThat(stored.getSpec().getContainers())
                .extracting(Container::getName)
                .containsExactly("app");
        assertThat(client.secrets().inNamespace("plain").list().getItems())
                .extracting(s -> s.getMetadata().getName())
                .doesNotContain("portcullis-sidecar-default");
    }

    @Test
    void anInvalidInjectionAnnotationIsRefusedByKubectlWithTheAnnotationAndTheAcceptedValues() {
        KubectlResult result = server.kubectlWithStdin(
                manifest("curl", "typo", "curl", Map.of(Enrolment.SIDECAR_INJECTION_ANNOTATION, "off")),
                "create",
                "-f",
                "-");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr())
                .contains("admission webhook \"inject.portcullis.io\" denied the request: Pod curl/typo has annotation"
                        + " flomesh.io/sidecar-injection: \"off\"; use \"enabled\" or \"disabled\"");
    }

    @Test
    void enrolmentListsAddsAndRemovesLikeFsm() {
        NamespaceEnrolment enrolment = new NamespaceEnrolment(client);
        assertThat(enrolment.add(List.of("later"), "fsm", true))
                .containsExactly("Namespace [later] successfully added to mesh [fsm]");
        assertThat(enrolment.list("fsm")).isEqualTo("""
                        NAMESPACE   MESH   SIDECAR-INJECTION   EGRESS-MODE
                        curl        fsm    enabled             enforce
                        later       fsm    disabled            enforce
                        """);
        assertThat(create("later", "later-1", "default", Map.of()).getSpec().getContainers())
                .as("injection disabled on the namespace")
                .hasSize(1);
        assertThat(enrolment.remove("later", "fsm"))
                .isEqualTo("Namespace [later] successfully removed from mesh [fsm]");
        assertThat(client.namespaces().withName("later").get().getMetadata().getLabels())
                .doesNotContainKey(Enrolment.MONITORED_BY_LABEL);
        assertThat(enrolment.remove("later", "fsm")).isEqualTo("Namespace [later] already does not belong to any mesh");
    }

    private Pod create(String namespace, String name, String serviceAccount, Map<String, String> annotations) {
        KubectlResult result =
                server.kubectlWithStdin(manifest(namespace, name, serviceAccount, annotations), "create", "-f", "-");
        assertThat(result.exitCode()).as("kubectl create: %s", result.stderr()).isZero();
        return client.pods().inNamespace(namespace).withName(name).get();
    }

    private static String manifest(
            String namespace, String name, String serviceAccount, Map<String, String> annotations) {
        StringBuilder yaml = new StringBuilder()
                .append("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ")
                .append(name)
                .append("\n  namespace: ")
                .append(namespace)
                .append('\n');
        if (!annotations.isEmpty()) {
            yaml.append("  annotations:\n");
            annotations.forEach((k, v) ->
                    yaml.append("    ").append(k).append(": \"").append(v).append("\"\n"));
        }
        return yaml.append("spec:\n  serviceAccountName: ")
                .append(serviceAccount)
                .append("\n  containers:\n  - name: app\n    image: curlimages/curl\n    command: [sleep, infinity]\n")
                .toString();
    }
}
