package io.portcullis.kubernetes.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfig;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The real API server calls our webhook: it dials https://127.0.0.1:PORT/validate (deploy/control-plane/webhooks.yaml
 * configuration with {@code clientConfig.url} instead of the Service), trusting only the caBundle the
 * control plane wrote. What a user sees is kubectl's output. The last tests take the webhook down and show
 * both failure policies.
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ValidatingWebhookApiServerTest {

    private static final String WEBHOOK = "policies.validate.portcullis.io";
    private static final String INVALID_EGRESS = """
            apiVersion: policy.flomesh.io/v1alpha1
            kind: Egress
            metadata: {name: no-hosts, namespace: curl}
            spec:
              sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
              ports: [{number: 80, protocol: http}]
            """;

    private KubeApiServer api;
    private CertificateAuthority ca;
    private AdmissionWebhooks webhooks;
    private int port;

    @BeforeAll
    void start() throws IOException {
        api = KubeApiServer.start();
        api.installCrds();
        api.client()
                .namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName("curl")
                        .endMetadata()
                        .build())
                .create();
        port = freePort();
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
            String path = webhook.getClientConfig().getService().getPath();
            webhook.setClientConfig(new WebhookClientConfig(null, null, "https://127.0.0.1:" + port + path));
        }
        api.client()
                .admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .resource(configuration)
                .create();
        ca = CertificateAuthority.generate(Clock.systemUTC());
        webhooks = startWebhooks();
        // The API server picks up webhook configurations asynchronously: wait until ours is called.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> !apply(INVALID_EGRESS, "--dry-run=server").succeeded());
    }

    private AdmissionWebhooks startWebhooks() throws IOException {
        return AdmissionWebhooks.start(
                new InetSocketAddress("127.0.0.1", port),
                ca,
                List.of("127.0.0.1"),
                Duration.ofHours(1),
                Clock.systemUTC(),
                Map.of(WebhookService.VALIDATE_PATH, new PolicyAdmission()),
                api.client());
    }

    @AfterAll
    void stop() {
        if (webhooks != null) {
            webhooks.close();
        }
        if (api != null) {
            api.close();
        }
    }

    @Test
    @Order(1)
    void theControlPlaneWroteItsCaIntoTheCaBundleAndSkippedTheMissingMutatingConfiguration() {
        ValidatingWebhookConfiguration stored = api.client()
                .admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName(WebhookService.VALIDATING_CONFIGURATION)
                .get();
        String expected = Base64.getEncoder().encodeToString(ca.certificatePem().getBytes(StandardCharsets.US_ASCII));
        assertThat(stored.getWebhooks())
                .allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo(expected));

        assertThat(new WebhookCaBundle(api.client(), ca.certificatePem()).publish())
                .isEqualTo(new WebhookCaBundle.Published(
                        WebhookCaBundle.Outcome.ALREADY_CURRENT, WebhookCaBundle.Outcome.MISSING));
    }

    @Test
    @Order(2)
    void kubectlApplyOfAnEgressWithoutHostsIsRefusedWithTheFieldAndTheFix() {
        KubectlResult result = apply(INVALID_EGRESS);

        assertThat(result.exitCode()).as(result.stdout()).isNotZero();
        assertThat(result.stderr())
                .contains("admission webhook \"" + WEBHOOK + "\" denied the request: Egress curl/no-hosts is invalid:"
                        + " spec.hosts: empty, but spec.ports[0] is http, which is matched by host name; list the"
                        + " hosts, or use protocol tcp to allow any host on port 80");
        assertThat(api.kubectl("get", "egress", "no-hosts", "-n", "curl").stderr())
                .contains("NotFound");
    }

    @Test
    @Order(3)
    void kubectlApplyOfAnHttpRouteGroupWithARegexEnvoyRefusesIsRefused() {
        KubectlResult result = apply("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: lookahead, namespace: curl}
                spec:
                  matches:
                  - {name: admin, pathRegex: '/(?!public)'}
                """);

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr())
                .contains("denied the request: HTTPRouteGroup curl/lookahead is invalid: spec.matches[0].pathRegex:"
                        + " '/(?!public)' ");
    }

    @Test
    @Order(4)
    void everyManifestOfTheGuideIsAccepted() throws Exception {
        Path guide = Path.of(getClass().getResource("/guide").toURI());
        try (var files = Files.list(guide)) {
            for (Path manifest :
                    files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                KubectlResult result = api.kubectl("apply", "-f", manifest.toString());
                assertThat(result.exitCode())
                        .as(manifest + "\n" + result.stderr())
                        .isZero();
                assertThat(result.stderr()).as(manifest.toString()).doesNotContain("Warning");
            }
        }
    }

    @Test
    @Order(5)
    void whatTheControlPlaneWouldIgnoreIsAcceptedWithAWarningKubectlPrints() {
        KubectlResult result = apply("""
                apiVersion: policy.flomesh.io/v1alpha1
                kind: Egress
                metadata: {name: postgres, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                  ipAddresses: [10.0.0.0/8]
                  ports: [{number: 5432, protocol: tcp}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: nope}]
                """);

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).contains("egress.policy.flomesh.io/postgres created");
        assertThat(result.stderr())
                .contains("Warning: spec.matches: ignored: HTTP route matches apply only to ports with protocol http");
    }

    @Test
    @Order(6)
    void deletingIsNeverRefused() {
        assertThat(api.kubectl("delete", "egress", "postgres", "-n", "curl").exitCode())
                .isZero();
    }

    @Test
    @Order(6)
    void anEgressModeThatIsNeitherAuditNorEnforceIsRefusedByKubectlApplyAndByKubectlAnnotate() {
        KubectlResult result = apply(valid("typo")
                .replace(
                        "metadata: {name: typo, namespace: curl}",
                        "metadata: {name: typo, namespace: curl, annotations: {portcullis.io/egress-mode: adit}}"));

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr())
                .contains("admission webhook \"" + WEBHOOK + "\" denied the request: Egress curl/typo is invalid:"
                        + " metadata.annotations[\"portcullis.io/egress-mode\"]: \"adit\" is neither \"audit\" nor"
                        + " \"enforce\"; write \"audit\" (let through what this Egress's ports would refuse, logged"
                        + " as would_deny) or \"enforce\", or remove the annotation (enforce)");
        assertThat(api.kubectl("get", "egress", "typo", "-n", "curl").stderr()).contains("NotFound");

        apply(valid("typo")).orThrow();
        KubectlResult annotated =
                api.kubectl("annotate", "egress", "typo", "-n", "curl", "portcullis.io/egress-mode=Audit");
        assertThat(annotated.exitCode()).isNotZero();
        assertThat(annotated.stderr()).contains("Egress curl/typo is invalid: metadata.annotations[");
        assertThat(api.kubectl("annotate", "egress", "typo", "-n", "curl", "portcullis.io/egress-mode=audit")
                        .orThrow())
                .contains("egress.policy.flomesh.io/typo annotated");
        assertThat(api.kubectl(
                                "get",
                                "egress",
                                "typo",
                                "-n",
                                "curl",
                                "-o",
                                "jsonpath={.metadata.annotations.portcullis\\.io/egress-mode}")
                        .orThrow())
                .isEqualTo("audit");
    }

    @Test
    @Order(7)
    void withTheWebhookDownFailurePolicyFailRefusesTheApply() {
        webhooks.close();
        webhooks = null;

        KubectlResult result = apply(valid("while-down"));

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr())
                .contains("failed calling webhook \"" + WEBHOOK + "\"")
                .contains("https://127.0.0.1:" + port + "/validate");
    }

    @Test
    @Order(8)
    void withTheWebhookDownFailurePolicyIgnoreAcceptsTheApply() {
        api.kubectl(
                        "patch",
                        "validatingwebhookconfiguration",
                        WebhookService.VALIDATING_CONFIGURATION,
                        "--type=json",
                        "-p",
                        "[{\"op\":\"replace\",\"path\":\"/webhooks/0/failurePolicy\",\"value\":\"Ignore\"}]")
                .orThrow();

        // The API server applies configuration changes asynchronously.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> apply(valid("while-down"), "--dry-run=server").succeeded());
        KubectlResult result = apply(valid("while-down"));
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).contains("egress.policy.flomesh.io/while-down created");
    }

    private static String valid(String name) {
        return """
                apiVersion: policy.flomesh.io/v1alpha1
                kind: Egress
                metadata: {name: %s, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                """.formatted(name);
    }

    private KubectlResult apply(String manifest, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("apply", "-f", "-"));
        args.addAll(List.of(extra));
        return api.kubectlWithStdin(manifest, args.toArray(String[]::new));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
