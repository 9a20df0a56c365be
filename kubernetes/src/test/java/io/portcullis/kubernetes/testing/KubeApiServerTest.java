package io.portcullis.kubernetes.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.portcullis.testfixtures.EgressManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The fixture itself: loopback only, CRDs installable, restarts keep data, compaction expires versions. */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubeApiServerTest {

    private KubeApiServer server;

    @BeforeAll
    void start() {
        server = KubeApiServer.start(List.of("--watch-cache=false"));
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theApiServerAndEtcdListenOnLoopbackOnly() throws Exception {
        Process ss =
                new ProcessBuilder("ss", "-Hltnp").redirectErrorStream(true).start();
        String sockets = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ss.waitFor();
        List<String> ours = sockets.lines()
                .filter(l -> l.contains("\"kube-apiserver\"") || l.contains("\"etcd\""))
                .toList();
        assertThat(ours).as(sockets).isNotEmpty();
        assertThat(ours).allSatisfy(l -> assertThat(l).containsPattern("127\\.0\\.0\\.1:\\d+"));
    }

    @Test
    void kubectlAndTheFabric8ClientBothTalkToItAsAdmin() {
        assertThat(server.kubectl("get", "namespace", "default", "-o", "name").orThrow())
                .isEqualTo("namespace/default\n");
        assertThat(server.client().namespaces().withName("kube-system").get()).isNotNull();
        assertThat(server.kubectl("auth", "can-i", "create", "customresourcedefinitions")
                        .orThrow())
                .isEqualTo("yes\n");
    }

    @Test
    void theProjectsCrdsInstallAndAGuideManifestIsStored() throws IOException {
        server.installCrds();
        server.kubectl("create", "namespace", "curl").orThrow();
        String egress = EgressManifest.named("httpbin-80")
                .host("httpbin.org")
                .port(80, "http")
                .yaml();
        server.kubectlWithStdin(egress, "apply", "-f", "-").orThrow();
        assertThat(server.kubectl("get", "egress.policy.flomesh.io", "-n", "curl", "-o", "name")
                        .orThrow())
                .contains("httpbin-80");
    }

    @Test
    void aRestartedApiServerStillHasWhatWasStored() {
        server.client()
                .configMaps()
                .inNamespace("default")
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("survives-restart")
                        .endMetadata()
                        .addToData("k", "v")
                        .build())
                .create();
        server.restartApiServer();
        ConfigMap read = server.client()
                .configMaps()
                .inNamespace("default")
                .withName("survives-restart")
                .get();
        assertThat(read.getData()).containsEntry("k", "v");
    }

    @Test
    void afterCompactionAWatchFromAnOldResourceVersionIsGone() {
        ConfigMap first = server.client()
                .configMaps()
                .inNamespace("default")
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("old-version")
                        .endMetadata()
                        .build())
                .create();
        String oldVersion = first.getMetadata().getResourceVersion();
        server.client()
                .configMaps()
                .inNamespace("default")
                .withName("old-version")
                .edit(cm -> new ConfigMapBuilder(cm).addToData("k", "v2").build());
        // Before compaction the old version can still be watched from ...
        assertThat(server.kubectl(
                                "get",
                                "--raw",
                                "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion="
                                        + oldVersion)
                        .orThrow())
                .contains("\"type\":\"MODIFIED\"");
        // A later write, so the compaction revision lies beyond the edit (compacting exactly at the
        // edit's revision leaves the watch start valid but its previous value gone: a 500, not a 410).
        server.client()
                .configMaps()
                .inNamespace("default")
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("later-write")
                        .endMetadata()
                        .build())
                .create();
        server.compactEtcd();
        // ... after it, the API server answers 410 Gone (as an ERROR event on the watch).
        assertThat(server.kubectl(
                                "get",
                                "--raw",
                                "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion="
                                        + oldVersion)
                        .stdout())
                .contains("\"code\":410");
    }

    @Test
    void aMissingBinaryDirectoryFailsInsteadOfSkipping() {
        String before = System.getProperty("portcullis.kubeBin");
        System.setProperty("portcullis.kubeBin", "/nonexistent/kube-bin");
        try {
            assertThatThrownBy(KubeApiServer::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("/nonexistent/kube-bin/etcd is missing");
        } finally {
            if (before == null) {
                System.clearProperty("portcullis.kubeBin");
            } else {
                System.setProperty("portcullis.kubeBin", before);
            }
        }
    }

    @Test
    void aClientOfThisServerIsRefusedByAnotherOne() throws IOException {
        // Negative control for the certificates: this kubeconfig pointed at a second server (another CA)
        // fails, so the kubeconfig really carries this server's trust and nothing trusts everything.
        try (KubeApiServer other = KubeApiServer.start()) {
            Config crossed =
                    Config.fromKubeconfig(Files.readString(server.kubeconfig()).replace(server.url(), other.url()));
            try (KubernetesClient client =
                    new KubernetesClientBuilder().withConfig(crossed).build()) {
                assertThatThrownBy(() -> client.namespaces().list()).isInstanceOf(KubernetesClientException.class);
            }
        }
    }
}
