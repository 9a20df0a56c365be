package io.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import io.portcullis.source.SourceUpdate;
import io.portcullis.xds.EgressControlPlane;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two control planes (each its own client, informers and {@link EgressControlPlane}) on one API server
 * serve every identity the same version after each step of the guide, and a control plane restarted
 * from scratch builds the very same versions: versions are digests of content, never counters or
 * timestamps, so sidecars can move between replicas without a re-push.
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicasServeIdenticalVersionsTest {

    private static final String MESH = MeshConfig.DEFAULT_NAMESPACE;
    private static final List<ServiceAccountRef> IDENTITIES =
            List.of(new ServiceAccountRef("curl", "curl"), new ServiceAccountRef("curl", "sleep"));

    private KubeApiServer server;

    @BeforeAll
    void startApiServer() throws IOException {
        server = KubeApiServer.start();
        server.installCrds();
        server.kubectlWithStdin(KubernetesConfigSourceTest.resource("/fsm-mesh-config.yaml"), "apply", "-f", "-")
                .orThrow();
        server.kubectl("create", "namespace", "curl").orThrow();
        server.kubectl("label", "namespace", "curl", "flomesh.io/monitored-by=fsm")
                .orThrow();
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    /** One control plane replica: its own client, informers and snapshot cache. */
    private record Replica(KubernetesClient client, KubernetesConfigSource source, EgressControlPlane plane)
            implements AutoCloseable {

        static Replica start(KubeApiServer server) throws InterruptedException {
            KubernetesClient client = server.newClient();
            EgressControlPlane plane = new EgressControlPlane();
            KubernetesConfigSource source = new KubernetesConfigSource(client, MESH);
            source.start(plane::apply);
            return new Replica(client, source, plane);
        }

        Map<ServiceAccountRef, String> versions() {
            Map<ServiceAccountRef, String> versions = new TreeMap<>();
            IDENTITIES.forEach(identity ->
                    versions.put(identity, plane.current(identity).resources().version()));
            return versions;
        }

        @Override
        public void close() {
            source.close();
            client.close();
        }
    }

    @Test
    void twoReplicasServeIdenticalVersionsAfterEachChange_andARestartedOneBuildsTheSameVersions() throws Exception {
        List<Map<ServiceAccountRef, String>> seen = new ArrayList<>();
        Replica first = Replica.start(server);
        try (Replica second = Replica.start(server)) {
            seen.add(expectedVersions());
            assertThat(first.versions()).isEqualTo(second.versions()).isEqualTo(seen.get(0));
            List<Step> steps = List.of(
                    new Step(
                            "kubectl patch meshconfig (the guide's)",
                            () -> server.kubectl(
                                            "patch",
                                            "meshconfig",
                                            "fsm-mesh-config",
                                            "-n",
                                            "fsm-system",
                                            "-p",
                                            KubernetesConfigSourceTest.guide("meshconfig-merge-patch.json")
                                                    .trim(),
                                            "--type=merge")
                                    .orThrow()),
                    apply("01-http-egress.yaml"),
                    apply("02-https-egress.yaml"),
                    apply("03-tcp-egress.yaml"),
                    new Step(
                            "delete the three Egresses",
                            () -> server.kubectl(
                                            "delete", "egress", "httpbin-80", "httpbin-443", "tcp-443", "-n", "curl")
                                    .orThrow()),
                    apply("04-http-route-group-and-egress.yaml"),
                    apply("05-http-route-group-updated.yaml"));
            for (Step step : steps) {
                step.change().run();
                Map<ServiceAccountRef, String> expected = expectedVersions();
                for (Replica replica : List.of(first, second)) {
                    await(step.what() + ": both replicas serve the API server's content")
                            .atMost(Duration.ofSeconds(60))
                            .pollInterval(Duration.ofMillis(50))
                            .until(() -> replica.versions().equals(expected));
                }
                assertThat(first.versions()).isEqualTo(second.versions());
                assertThat(expected.get(IDENTITIES.get(0)))
                        .as(step.what() + " changed what curl/curl is served")
                        .isNotEqualTo(seen.get(seen.size() - 1).get(IDENTITIES.get(0)));
                seen.add(expected);
            }
            first.close();
            try (Replica restarted = Replica.start(server)) {
                assertThat(restarted.versions())
                        .as("a control plane restarted from scratch builds the same versions")
                        .isEqualTo(second.versions())
                        .isEqualTo(seen.get(seen.size() - 1));
            }
        } finally {
            first.close();
        }
    }

    private record Step(String what, ThrowingRunnable change) {}

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private Step apply(String guideFile) {
        return new Step(
                "kubectl apply -f " + guideFile,
                () -> server.kubectlWithStdin(KubernetesConfigSourceTest.guide(guideFile), "apply", "-f", "-")
                        .orThrow());
    }

    /** What a control plane given the API server's current content (plain lists) serves each identity. */
    private Map<ServiceAccountRef, String> expectedVersions() {
        EgressControlPlane offline = new EgressControlPlane();
        offline.apply(new SourceUpdate(ApiServerContent.snapshot(server.client(), MESH), List.of()));
        Map<ServiceAccountRef, String> versions = new TreeMap<>();
        IDENTITIES.forEach(identity ->
                versions.put(identity, offline.current(identity).resources().version()));
        return versions;
    }
}
