package io.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.crds.Egress;
import io.portcullis.kubernetes.KubernetesConfigSourceTest.Updates;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What the Kubernetes source does when the API server cannot give it what it needs: no CRDs (it
 * refuses to start, publishing nothing), and objects a looser schema than ours let in (each one a
 * problem naming it and its field; the others apply).
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesSourceFailureTest {

    /** An Egress CRD that stores any spec: what an older or hand-written CRD in a cluster may allow. */
    private static final String LOOSE_EGRESS_CRD = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: egresses.policy.flomesh.io
            spec:
              group: policy.flomesh.io
              names: {kind: Egress, plural: egresses, singular: egress}
              scope: Namespaced
              versions:
              - name: v1alpha1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
            """;

    private KubeApiServer server;

    @BeforeAll
    void startApiServer() {
        server = KubeApiServer.start();
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void withoutTheCrdsStartFailsNamingWhatCannotBeListedAndPublishesNothing() {
        Updates updates = new Updates();
        try (KubernetesConfigSource source =
                new KubernetesConfigSource(server.client(), "fsm-system", Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> source.start(updates))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("egresses.policy.flomesh.io")
                    .hasMessageContaining("httproutegroups.specs.smi-spec.io")
                    .hasMessageContaining("meshconfig fsm-system/fsm-mesh-config")
                    .hasMessageContaining("kubectl apply -f deploy/crds")
                    .hasMessageNotContaining("namespaces labelled");
        }
        assertThat(updates.all()).as("published").isEmpty();
    }

    @Test
    @Order(2)
    void anObjectThatCannotBeConvertedIsAProblemNamingItAndItsFieldAndTheOthersApply() throws Exception {
        server.kubectlWithStdin(LOOSE_EGRESS_CRD, "apply", "-f", "-").orThrow();
        server.kubectl(
                        "apply",
                        "-f",
                        KubeApiServer.deployDirectory()
                                .resolve("crds/httproutegroups.specs.smi-spec.io-v1.yml")
                                .toString(),
                        "-f",
                        KubeApiServer.deployDirectory()
                                .resolve("crds/meshconfigs.config.flomesh.io-v1.yml")
                                .toString())
                .orThrow();
        server.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
                .orThrow();
        server.kubectl("create", "namespace", "loose").orThrow();
        server.kubectl("label", "namespace", "loose", "flomesh.io/monitored-by=fsm")
                .orThrow();
        ApiServerContent.apply(server.client(), Egress.class, ApiServerContent.egress("loose", "good", 80));
        ApiServerContent.apply(
                server.client(),
                Egress.class,
                ApiServerContent.egress("loose", "bad", 81).replace("number: 81", "number: eighty-one"));
        Updates updates = new Updates();
        try (KubernetesConfigSource source = new KubernetesConfigSource(server.client(), "fsm-system")) {
            source.start(updates);
            assertThat(ApiServerContent.keys(updates.last().snapshot())).containsExactly("Egress loose/good");
            assertThat(updates.last().problems())
                    .anySatisfy(p -> assertThat(p)
                            .startsWith("Egress loose/bad: ")
                            .contains("spec.ports[0].number")
                            .contains("a whole number"));
            ApiServerContent.apply(server.client(), Egress.class, ApiServerContent.egress("loose", "bad", 81));
            updates.await(
                    "the corrected Egress",
                    u -> ApiServerContent.keys(u.snapshot()).contains("Egress loose/bad")
                            && u.problems().stream().noneMatch(p -> p.contains("loose/bad")));
        }
    }
}
