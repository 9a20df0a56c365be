package io.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.crds.EgressMode;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code portcullis namespace audit|enforce|list} ({@link NamespaceEnrolment}) against a real API server:
 * what the API server stored after each command, and what {@code list} shows.
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NamespaceEgressModeApiServerTest {

    private KubeApiServer server;
    private KubernetesClient client;
    private NamespaceEnrolment enrolment;

    @BeforeAll
    void startApiServer() {
        server = KubeApiServer.start();
        client = server.client();
        enrolment = new NamespaceEnrolment(client);
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void auditSetsOnlyTheModeAnnotationAndKeepsTheNamespacesOtherAnnotationsAndLabels() {
        create("payments");
        enrolment.add(List.of("payments"), "fsm", false);
        server.kubectl("annotate", "namespace", "payments", "team=payments").orThrow();
        server.kubectl("label", "namespace", "payments", "tier=backend").orThrow();

        assertThat(enrolment.setMode("payments", EgressMode.AUDIT, "fsm"))
                .containsExactly("Namespace [payments] egress mode set to [audit]: its sidecars let through what the"
                        + " policies refuse and log it as would_deny (annotation portcullis.io/egress-mode=audit)");

        Namespace stored = client.namespaces().withName("payments").get();
        assertThat(stored.getMetadata().getAnnotations())
                .containsEntry(EgressMode.ANNOTATION, "audit")
                .containsEntry("team", "payments")
                .containsEntry(Enrolment.SIDECAR_INJECTION_ANNOTATION, "enabled");
        assertThat(stored.getMetadata().getLabels())
                .containsEntry(Enrolment.MONITORED_BY_LABEL, "fsm")
                .containsEntry("tier", "backend");
        assertThat(server.kubectl(
                                "get",
                                "namespace",
                                "payments",
                                "-o",
                                "jsonpath={.metadata.annotations.portcullis\\.io/egress-mode}")
                        .orThrow())
                .as("what kubectl shows")
                .isEqualTo("audit");
    }

    @Test
    void enforceOverwritesAuditAndAnInvalidValueAndSayingItTwiceChangesNothing() {
        create("billing");
        enrolment.add(List.of("billing"), "fsm", false);
        enrolment.setMode("billing", EgressMode.AUDIT, "fsm");

        assertThat(enrolment.setMode("billing", EgressMode.ENFORCE, "fsm"))
                .containsExactly("Namespace [billing] egress mode set to [enforce]: its sidecars refuse what the"
                        + " policies do not allow");
        assertThat(annotations("billing")).containsEntry(EgressMode.ANNOTATION, "enforce");

        server.kubectl("annotate", "--overwrite", "namespace", "billing", "portcullis.io/egress-mode=adit")
                .orThrow();
        enrolment.setMode("billing", EgressMode.ENFORCE, "fsm");
        assertThat(annotations("billing")).containsEntry(EgressMode.ANNOTATION, "enforce");

        String resourceVersion =
                client.namespaces().withName("billing").get().getMetadata().getResourceVersion();
        assertThat(enrolment.setMode("billing", EgressMode.ENFORCE, "fsm"))
                .containsExactly("Namespace [billing] is already in egress mode [enforce]");
        assertThat(client.namespaces().withName("billing").get().getMetadata().getResourceVersion())
                .as("nothing written")
                .isEqualTo(resourceVersion);
    }

    @Test
    void aNamespaceOutsideTheMeshIsAnnotatedAndTheOutputSaysTheModeAppliesOnceEnrolled() {
        create("later");
        assertThat(enrolment.setMode("later", EgressMode.AUDIT, "fsm"))
                .containsExactly(
                        "Namespace [later] egress mode set to [audit]: its sidecars let through what the policies"
                                + " refuse and log it as would_deny (annotation portcullis.io/egress-mode=audit)",
                        "Namespace [later] is not in mesh [fsm]: the mode applies once it is enrolled ('portcullis"
                                + " namespace add later')");
        assertThat(annotations("later")).containsEntry(EgressMode.ANNOTATION, "audit");
    }

    @Test
    void aNamespaceThatDoesNotExistIsNamed() {
        assertThatThrownBy(() -> enrolment.setMode("nowhere", EgressMode.AUDIT, "fsm"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Could not set the egress mode of namespace [nowhere]: namespaces \"nowhere\" not found");
    }

    @Test
    void listShowsEachEnrolledNamespacesModeAndAnInvalidValueAsEnforced() {
        for (String name : List.of("mode-a", "mode-b", "mode-c")) {
            create(name);
        }
        enrolment.add(List.of("mode-a", "mode-b", "mode-c"), "other-mesh", false);
        enrolment.setMode("mode-a", EgressMode.AUDIT, "other-mesh");
        server.kubectl("annotate", "namespace", "mode-c", "portcullis.io/egress-mode=adit")
                .orThrow();

        assertThat(enrolment.list("other-mesh")).isEqualTo("""
                NAMESPACE   MESH         SIDECAR-INJECTION   EGRESS-MODE
                mode-a      other-mesh   enabled             audit
                mode-b      other-mesh   enabled             enforce
                mode-c      other-mesh   enabled             enforce (invalid: portcullis.io/egress-mode=adit)
                """);
    }

    private void create(String namespace) {
        server.kubectl("create", "namespace", namespace).orThrow();
    }

    private Map<String, String> annotations(String namespace) {
        return client.namespaces().withName(namespace).get().getMetadata().getAnnotations();
    }
}
