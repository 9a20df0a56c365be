package io.portcullis.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.testfixtures.EgressManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kubectl's apply, delete and patch against the directory store, checked through what the source then reads. */
class ManifestStoreTest {

    private static final String EGRESS = EgressManifest.named("httpbin-80")
            .host("httpbin.org")
            .port(80, "http")
            .yaml();

    @TempDir
    Path dir;

    private ManifestStore store() {
        return new ManifestStore(dir, "fsm-system");
    }

    private SourceUpdate read() throws Exception {
        try (DirectoryConfigSource source = new DirectoryConfigSource(dir, "fsm-system")) {
            return source.readOnce();
        }
    }

    @Test
    void applyReportsCreatedUnchangedConfiguredLikeKubectl() throws Exception {
        assertThat(store().apply(EGRESS, "test", null)).containsExactly("egress.policy.flomesh.io/httpbin-80 created");
        assertThat(store().apply(EGRESS, "test", null))
                .containsExactly("egress.policy.flomesh.io/httpbin-80 unchanged");
        assertThat(store().apply(EGRESS.replace("httpbin.org", "example.com"), "test", null))
                .containsExactly("egress.policy.flomesh.io/httpbin-80 configured");
        assertThat(read().snapshot().egresses())
                .singleElement()
                .satisfies(e -> assertThat(e.getSpec().hosts()).containsExactly("example.com"));
    }

    @Test
    void applyWritesNothingWhenAnyDocumentIsInvalid() throws Exception {
        assertThatThrownBy(() -> store().apply(
                                EGRESS + "---\nkind: Egress\napiVersion: policy.flomesh.io/v1beta9\n"
                                        + "metadata: {name: x, namespace: curl}\nspec: {}\n",
                                "test",
                                null))
                .hasMessageContaining("nothing applied")
                .hasMessageContaining("v1beta9");
        assertThat(read().snapshot().egresses()).isEmpty();
    }

    @Test
    void aNamespaceManifestAnnotatedAuditPutsItsNamespaceInAuditUntilDeleted() throws Exception {
        String audit = """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: curl
                  annotations:
                    portcullis.io/egress-mode: audit
                """;
        assertThat(store().apply(audit, "test", "ignored-for-a-namespace")).containsExactly("namespace/curl created");
        assertThat(dir.resolve("namespace.curl.yaml")).exists();
        assertThat(read().snapshot().auditedNamespaces()).containsExactly("curl");

        store().apply(audit.replace("egress-mode: audit", "egress-mode: enforce"), "test", null);
        assertThat(read().snapshot().auditedNamespaces()).isEmpty();

        store().apply(audit, "test", null);
        assertThat(store().delete("ns", "curl", "curl")).isEqualTo("ns \"curl\" deleted");
        assertThat(read().snapshot().auditedNamespaces()).isEmpty();
    }

    @Test
    void aNamespaceWithAnInvalidEgressModeIsReportedAndStaysEnforced() throws Exception {
        store().apply("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: curl
                  annotations:
                    portcullis.io/egress-mode: Audit
                """, "test", null);
        SourceUpdate update = read();
        assertThat(update.snapshot().auditedNamespaces()).isEmpty();
        assertThat(String.join("\n", update.problems()))
                .contains("Namespace curl: metadata.annotations[\"portcullis.io/egress-mode\"]")
                .contains("its sidecars stay enforced");
    }

    @Test
    void deleteRemovesAndReportsNotFound() throws Exception {
        store().apply(EGRESS, "test", null);
        assertThat(store().delete("egress", "curl", "httpbin-80")).isEqualTo("egress \"httpbin-80\" deleted");
        assertThat(read().snapshot().egresses()).isEmpty();
        assertThatThrownBy(() -> store().delete("egresses", "curl", "httpbin-80"))
                .hasMessageContaining("NotFound")
                .hasMessageContaining("Egress curl/httpbin-80");
        assertThatThrownBy(() -> store().delete("deployment", "curl", "x"))
                .hasMessageContaining("unknown resource type");
    }

    @Test
    void theGuidesMeshConfigPatchKeepsFieldsPortcullisDoesNotModel() throws Exception {
        Files.writeString(dir.resolve("meshconfig.yaml"), """
                apiVersion: config.flomesh.io/v1alpha3
                kind: MeshConfig
                metadata:
                  name: fsm-mesh-config
                  namespace: fsm-system
                spec:
                  sidecar:
                    logLevel: error
                  traffic:
                    enableEgress: true
                    outboundPortExclusionList: [6379]
                """);
        assertThatThrownBy(() -> store().patch("meshconfig", "fsm-system", "fsm-mesh-config", "{}"))
                .as("a MeshConfig written by hand is edited where it is")
                .hasMessageContaining("meshconfig.yaml");

        Files.move(dir.resolve("meshconfig.yaml"), dir.resolve("meshconfig.fsm-system.fsm-mesh-config.yaml"));
        String result = store().patch(
                        "meshconfig",
                        "fsm-system",
                        "fsm-mesh-config",
                        "{\"spec\":{\"featureFlags\":{\"enableEgressPolicy\":true},\"traffic\":{\"enableEgress\":false}}}");

        assertThat(result).isEqualTo("meshconfig.config.flomesh.io/fsm-mesh-config patched");
        assertThat(read().snapshot().mesh().passthrough()).isFalse();
        assertThat(read().snapshot().mesh().policyEnforced()).isTrue();
        String text = Files.readString(dir.resolve("meshconfig.fsm-system.fsm-mesh-config.yaml"));
        assertThat(text).contains("logLevel: error").contains("6379");
    }

    @Test
    void ensureMeshConfigWritesSecureDefaultsOnce() throws Exception {
        assertThat(store().ensureMeshConfig()).isTrue();
        assertThat(store().ensureMeshConfig()).isFalse();
        assertThat(read().snapshot().mesh().policyEnforced()).isTrue();
        assertThat(read().snapshot().mesh().passthrough()).isFalse();
        assertThat(read().problems()).isEmpty();
    }

    @Test
    void ensureMeshConfigFindsOneWhoseKindIsSpelledWithAnEscapeAmongFilesItNeedNotParse() throws Exception {
        for (int i = 0; i < 20; i++) {
            store().apply(EGRESS.replace("httpbin-80", "policy-" + i), "test", null);
        }
        // Double-quoted YAML: \x43 is "C", so this is kind MeshConfig though the file never spells it out.
        Files.writeString(dir.resolve("mesh.yaml"), """
                apiVersion: config.flomesh.io/v1alpha3
                kind: "Mesh\\x43onfig"
                metadata:
                  name: fsm-mesh-config
                  namespace: fsm-system
                spec:
                  featureFlags:
                    enableEgressPolicy: true
                  traffic:
                    enableEgress: true
                """);

        assertThat(store().ensureMeshConfig()).as("found: none written").isFalse();
        assertThat(read().snapshot().mesh().passthrough())
                .as("the escaped one is the mesh's")
                .isTrue();
        assertThat(dir.resolve("meshconfig.fsm-system.fsm-mesh-config.yaml")).doesNotExist();
    }

    @Test
    void applyAndPatchReplaceTheFileByRenameSoTheSourceNeverSeesHalfAFile() throws Exception {
        store().apply(EGRESS, "test", null);
        Path file = dir.resolve("egress.curl.httpbin-80.yaml");
        Object before = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey();

        store().apply(EGRESS.replace("httpbin.org", "example.com"), "test", null);
        Object applied = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey();
        store().patch("egress", "curl", "httpbin-80", "{\"spec\":{\"hosts\":[\"example.org\"]}}");
        Object patched = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey();

        assertThat(applied)
                .as("a new file (inode) renamed over the old one, not the old one rewritten")
                .isNotEqualTo(before);
        assertThat(patched).isNotEqualTo(applied);
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("egress.curl.httpbin-80.yaml");
        }
    }
}
