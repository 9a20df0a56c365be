package io.portcullis.kubernetes.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import io.portcullis.xds.EgressControlPlane;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Status conditions on a real API server: what kubectl shows, written only when they change. */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyStatusWriterTest {

    private static final Duration DEADLINE = Duration.ofMinutes(1);

    private KubeApiServer server;
    private KubernetesClient client;

    @BeforeAll
    void start() {
        server = KubeApiServer.start();
        client = server.client();
        StatusReadyApiServer.installCrds(server);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void eachEgressAndRouteGroupGetsAcceptedForItsGenerationAndReEvaluatingTheSameInputWritesNothing() {
        StatusReadyApiServer.createNamespace(client, "same");
        apply("same", egress("httpbin", "routes") + egress("missing-group", "nope") + routeGroup("routes", "/get"));
        EgressControlPlane controlPlane = new EgressControlPlane();
        try (PolicyStatusWriter writer = new PolicyStatusWriter(client, "portcullis", Clock.systemUTC())) {
            controlPlane.onEvaluation(writer::offer);
            writer.lead();
            controlPlane.apply(StatusReadyApiServer.snapshot(client));

            await().atMost(DEADLINE).untilAsserted(() -> {
                assertThat(accepted("Egress", "same", "httpbin")).containsEntry("status", "True");
                assertThat(accepted("Egress", "same", "missing-group")).containsEntry("status", "False");
                assertThat(accepted("HTTPRouteGroup", "same", "routes")).containsEntry("status", "True");
            });
            GenericKubernetesResource missing = get("Egress", "same", "missing-group");
            Map<String, Object> condition = accepted("Egress", "same", "missing-group");
            assertThat(condition)
                    .containsEntry("reason", "RouteGroupNotFound")
                    .containsEntry(
                            "observedGeneration",
                            missing.getMetadata().getGeneration().intValue())
                    .containsEntry(
                            "message",
                            "spec.matches[0].name: HTTPRouteGroup same/nope does not exist; create it in namespace"
                                    + " same or fix the name");
            assertThat(status(missing))
                    .containsEntry(
                            "observedGeneration",
                            missing.getMetadata().getGeneration().intValue());
            String describe = server.kubectl("describe", "egress", "-n", "same", "missing-group")
                    .orThrow();
            System.out.println("kubectl describe egress -n same missing-group:\n" + describe);
            System.out.println("kubectl get egress -A:\n"
                    + server.kubectl("get", "egress", "-A").orThrow());
            assertThat(describe).contains("RouteGroupNotFound", "spec.matches[0].name");

            Map<String, String> versions = resourceVersions("same");
            int writes = writer.writes();
            int passes = writer.passes();
            controlPlane.apply(StatusReadyApiServer.snapshot(client));
            writer.lead(); // a second pass even if the evaluation were coalesced away
            await().atMost(DEADLINE).until(() -> writer.passes() >= passes + 1);

            assertThat(writer.writes()).as("status patches sent").isEqualTo(writes);
            assertThat(resourceVersions("same")).as("no object changed").isEqualTo(versions);
        }
    }

    @Test
    void fixingTheCauseFlipsTheConditionAndLeavesTheOtherObjectsAlone() {
        StatusReadyApiServer.createNamespace(client, "fix");
        apply("fix", egress("httpbin", "routes") + egress("other", null));
        EgressControlPlane controlPlane = new EgressControlPlane();
        try (PolicyStatusWriter writer = new PolicyStatusWriter(client, "portcullis", Clock.systemUTC())) {
            controlPlane.onEvaluation(writer::offer);
            writer.lead();
            controlPlane.apply(StatusReadyApiServer.snapshot(client));
            await().atMost(DEADLINE)
                    .untilAsserted(() -> assertThat(accepted("Egress", "fix", "httpbin"))
                            .containsEntry("reason", "RouteGroupNotFound"));
            await().atMost(DEADLINE)
                    .untilAsserted(
                            () -> assertThat(accepted("Egress", "fix", "other")).containsEntry("status", "True"));
            String otherVersion = get("Egress", "fix", "other").getMetadata().getResourceVersion();

            apply("fix", routeGroup("routes", "/get"));
            controlPlane.apply(StatusReadyApiServer.snapshot(client));

            await().atMost(DEADLINE)
                    .untilAsserted(() -> assertThat(accepted("Egress", "fix", "httpbin"))
                            .containsEntry("status", "True")
                            .containsEntry("reason", "Accepted"));
            await().atMost(DEADLINE)
                    .untilAsserted(() -> assertThat(accepted("HTTPRouteGroup", "fix", "routes"))
                            .containsEntry("status", "True"));
            assertThat(get("Egress", "fix", "other").getMetadata().getResourceVersion())
                    .as("an object whose status did not change is not written")
                    .isEqualTo(otherVersion);
        }
    }

    @Test
    void anObjectWhoseSpecChangedSinceTheEvaluationGetsNoStatusForTheNewGenerationUntilItIsEvaluated() {
        StatusReadyApiServer.createNamespace(client, "stale");
        apply("stale", egress("httpbin", null));
        EgressControlPlane controlPlane = new EgressControlPlane();
        try (PolicyStatusWriter writer = new PolicyStatusWriter(client, "portcullis", Clock.systemUTC())) {
            controlPlane.onEvaluation(writer::offer);
            controlPlane.apply(StatusReadyApiServer.snapshot(client)); // evaluated: generation 1, valid
            apply("stale", egress("httpbin", "nope")); // generation 2 on the server, not evaluated yet
            long generation = get("Egress", "stale", "httpbin").getMetadata().getGeneration();
            assertThat(generation).isEqualTo(2L);

            writer.lead();
            await().atMost(DEADLINE).until(() -> writer.passes() >= 1);
            assertThat(status(get("Egress", "stale", "httpbin")))
                    .as("the valid generation-1 verdict is not stamped on generation 2")
                    .isNull();

            controlPlane.apply(StatusReadyApiServer.snapshot(client));
            await().atMost(DEADLINE)
                    .untilAsserted(() -> assertThat(accepted("Egress", "stale", "httpbin"))
                            .containsEntry("reason", "RouteGroupNotFound")
                            .containsEntry("observedGeneration", 2));
        }
    }

    // ------------------------------------------------------------------ helpers

    private void apply(String namespace, String manifests) {
        server.kubectlWithStdin(manifests, "apply", "-n", namespace, "-f", "-").orThrow();
    }

    private GenericKubernetesResource get(String kind, String namespace, String name) {
        String apiVersion = kind.equals("Egress") ? "policy.flomesh.io/v1alpha1" : "specs.smi-spec.io/v1alpha4";
        return client.genericKubernetesResources(apiVersion, kind)
                .inNamespace(namespace)
                .withName(name)
                .get();
    }

    private Map<String, String> resourceVersions(String namespace) {
        Map<String, String> versions = new java.util.TreeMap<>();
        for (String kind : List.of("Egress", "HTTPRouteGroup")) {
            String apiVersion = kind.equals("Egress") ? "policy.flomesh.io/v1alpha1" : "specs.smi-spec.io/v1alpha4";
            client.genericKubernetesResources(apiVersion, kind).inNamespace(namespace).list().getItems().stream()
                    .forEach(o -> versions.put(
                            kind + "/" + o.getMetadata().getName(),
                            o.getMetadata().getResourceVersion()));
        }
        return versions;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> status(GenericKubernetesResource object) {
        return (Map<String, Object>) object.getAdditionalProperties().get("status");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> accepted(String kind, String namespace, String name) {
        Map<String, Object> status = status(get(kind, namespace, name));
        if (status == null || !(status.get("conditions") instanceof List<?> conditions)) {
            return Map.of();
        }
        return conditions.stream()
                .map(c -> (Map<String, Object>) c)
                .filter(c -> "Accepted".equals(c.get("type")))
                .findFirst()
                .orElse(Map.of());
    }

    static String egress(String name, String routeGroup) {
        String matches = routeGroup == null ? "" : """
                  matches:
                  - apiGroup: specs.smi-spec.io/v1alpha4
                    kind: HTTPRouteGroup
                    name: %s
                """.formatted(routeGroup);
        return """
                ---
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata:
                  name: %s
                spec:
                  sources:
                  - kind: ServiceAccount
                    name: curl
                    namespace: curl
                  hosts:
                  - httpbin.org
                  ports:
                  - number: 80
                    protocol: http
                """.formatted(name) + matches;
    }

    static String routeGroup(String name, String pathRegex) {
        return """
                ---
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata:
                  name: %s
                spec:
                  matches:
                  - name: allowed
                    pathRegex: "%s"
                    methods: ["GET"]
                """.formatted(name, pathRegex);
    }
}
