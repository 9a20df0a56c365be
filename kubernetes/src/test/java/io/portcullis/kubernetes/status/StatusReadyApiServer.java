package io.portcullis.kubernetes.status;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.source.SourceUpdate;
import java.time.Duration;
import java.util.List;

/** What the status tests need of a real API server, and a snapshot as the Kubernetes config source builds it. */
public final class StatusReadyApiServer {

    private StatusReadyApiServer() {}

    /**
     * Installs deploy/crds and makes sure Egress and HTTPRouteGroup have the {@code status} subresource with
     * a status the API server keeps. The kcrd branch puts both into deploy/crds; until it is merged this
     * adds them to the installed CRDs (a JSON patch, harmless when they are already there).
     */
    public static void installCrds(KubeApiServer server) {
        server.installCrds();
        for (String crd : List.of("egresses.policy.flomesh.io", "httproutegroups.specs.smi-spec.io")) {
            String patch = "[{\"op\":\"add\",\"path\":\"/spec/versions/0/subresources\",\"value\":{\"status\":{}}},"
                    + "{\"op\":\"add\",\"path\":\"/spec/versions/0/schema/openAPIV3Schema/properties/status/"
                    + "x-kubernetes-preserve-unknown-fields\",\"value\":true}]";
            if (!server.kubectl("get", "crd", crd, "-o", "jsonpath={.spec.versions[0].subresources.status}")
                    .orThrow()
                    .contains("{}")) {
                server.kubectl("patch", "crd", crd, "--type=json", "-p", patch).orThrow();
            }
        }
        await().atMost(Duration.ofMinutes(1))
                .until(() -> server.kubectl("get", "--raw", "/apis/policy.flomesh.io/v1alpha1")
                                .stdout()
                                .contains("egresses/status")
                        && server.kubectl("get", "--raw", "/apis/specs.smi-spec.io/v1alpha4")
                                .stdout()
                                .contains("httproutegroups/status"));
    }

    public static void createNamespace(KubernetesClient client, String name) {
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .endMetadata()
                        .build())
                .createOr(existing -> existing.update());
    }

    /**
     * The objects on the server as the Kubernetes config source delivers them: only what users write of
     * the metadata (no generation, uid or resourceVersion).
     */
    public static SourceUpdate snapshot(KubernetesClient client) {
        List<Egress> egresses =
                client.resources(Egress.class).inAnyNamespace().list().getItems();
        List<HTTPRouteGroup> groups =
                client.resources(HTTPRouteGroup.class).inAnyNamespace().list().getItems();
        egresses.forEach(StatusReadyApiServer::userMetadataOnly);
        groups.forEach(StatusReadyApiServer::userMetadataOnly);
        return new SourceUpdate(ResourceSnapshot.of(null, egresses, groups), List.of());
    }

    private static void userMetadataOnly(HasMetadata object) {
        object.getMetadata().setGeneration(null);
        object.getMetadata().setUid(null);
        object.getMetadata().setResourceVersion(null);
        object.getMetadata().setManagedFields(null);
        object.getMetadata().setCreationTimestamp(null);
        object.getMetadata().setAnnotations(null);
    }
}
