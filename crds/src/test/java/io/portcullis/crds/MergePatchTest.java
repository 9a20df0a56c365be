package io.portcullis.crds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MergePatchTest {
    private static final String GUIDE_PATCH = TestFiles.resource("guide/meshconfig-merge-patch.json");
    private static final ObjectMapper YAML = new YAMLMapper();

    private final ManifestReader reader = new ManifestReader();
    private final ManifestWriter writer = new ManifestWriter();

    private MeshConfig fsmMeshConfig() {
        ManifestSet set = reader.read(TestFiles.resource("fsm-mesh-config.yaml"), "fsm-mesh-config");
        assertThat(set.problems()).isEmpty();
        return set.resourcesOf(MeshConfig.class).get(0);
    }

    @Test
    void guidePatchSetsBothFlagsAndKeepsEveryOtherField() throws Exception {
        MeshConfig before = fsmMeshConfig();
        assertThat(before.egressSettings()).isEqualTo(new EgressSettings(false, true));
        String beforeYaml = writer.write(before);

        MeshConfig after = MergePatch.apply(before, GUIDE_PATCH);

        assertThat(after).isInstanceOf(MeshConfig.class).isNotSameAs(before);
        assertThat(after.getSpec().featureFlags().enableEgressPolicy()).isTrue();
        assertThat(after.getSpec().traffic().enableEgress()).isFalse();
        assertThat(after.egressSettings()).isEqualTo(new EgressSettings(true, false));
        // the argument is untouched
        assertThat(writer.write(before)).isEqualTo(beforeYaml);

        // Exactly the two flags changed: the whole document, unmodelled fields included (and their
        // types: 6379 stays a number, "8080" a string), is otherwise identical to the input file.
        ObjectNode expected = (ObjectNode) YAML.readTree(TestFiles.resource("fsm-mesh-config.yaml"));
        ((ObjectNode) expected.at("/spec/featureFlags")).set("enableEgressPolicy", BooleanNode.TRUE);
        ((ObjectNode) expected.at("/spec/traffic")).set("enableEgress", BooleanNode.FALSE);
        JsonNode actual = YAML.readTree(writer.write(after));
        assertThat(actual).isEqualTo(expected);

        assertThat(after.getSpec().otherFields()).containsKeys("clusterSet", "sidecar", "observability");
        assertThat(after.getSpec().featureFlags().otherFields())
                .containsEntry("enableAccessControlPolicy", true)
                .containsEntry("enableRetryPolicy", false);
        assertThat(after.getSpec().traffic().otherFields())
                .containsEntry("interceptionMode", "PodLevel")
                .containsEntry("outboundPortExclusionList", List.of(6379, "8080"));
        assertThat(after.getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "flomesh.io");
        assertThat(after.getMetadata().getResourceVersion()).isEqualTo("1234");
    }

    @Test
    void guidePatchOnMeshConfigWithoutSpecCreatesIt() {
        MeshConfig empty = new MeshConfig("fsm-system", "fsm-mesh-config", null);
        assertThat(empty.egressSettings()).isEqualTo(EgressSettings.DEFAULTS);
        MeshConfig patched = MergePatch.apply(empty, GUIDE_PATCH);
        assertThat(patched.getSpec()).isEqualTo(new MeshConfigSpec(new FeatureFlags(true), new Traffic(false)));
    }

    @Test
    void nullRemovesAField() {
        MeshConfig patched =
                MergePatch.apply(fsmMeshConfig(), "{\"spec\":{\"sidecar\":null,\"traffic\":{\"enableEgress\":null}}}");
        assertThat(patched.getSpec().otherFields()).doesNotContainKey("sidecar").containsKey("clusterSet");
        assertThat(patched.getSpec().traffic().enableEgress()).isNull();
        assertThat(patched.getSpec().traffic().otherFields()).containsKey("interceptionMode");
        // absent passthrough flag falls back to the secure default
        assertThat(patched.egressSettings().passthrough()).isFalse();
    }

    @Test
    void patchesAnEgressAndReplacesLists() {
        Egress egress = reader.read(TestFiles.resource("guide/01-http-egress.yaml"), "x")
                .resourcesOf(Egress.class)
                .get(0);
        Egress patched = MergePatch.apply(
                egress,
                "{\"spec\":{\"hosts\":[\"example.com\",\"httpbin.org\"],\"ports\":[{\"number\":8080,\"protocol\":\"http\"}]}}");
        assertThat(patched.getSpec().hosts()).containsExactly("example.com", "httpbin.org");
        assertThat(patched.getSpec().ports()).containsExactly(new EgressPort(8080, "http"));
        assertThat(patched.getSpec().sources()).isEqualTo(egress.getSpec().sources());
        assertThat(egress.getSpec().hosts()).containsExactly("httpbin.org");
    }

    @Test
    void yamlPatchIsAcceptedLikeKubectl() {
        MeshConfig patched =
                MergePatch.apply(fsmMeshConfig(), "spec:\n  featureFlags:\n    enableEgressPolicy: true\n");
        assertThat(patched.getSpec().featureFlags().enableEgressPolicy()).isTrue();
        assertThat(patched.getSpec().traffic().enableEgress()).isTrue();
    }

    @Test
    void rejectsPatchesThatRenameOrMoveTheResource() {
        assertThatThrownBy(() -> MergePatch.apply(fsmMeshConfig(), "{\"metadata\":{\"name\":\"other\"}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metadata.name")
                .hasMessageContaining("fsm-mesh-config")
                .hasMessageContaining("other");
        assertThatThrownBy(() -> MergePatch.apply(fsmMeshConfig(), "{\"metadata\":{\"namespace\":null}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metadata.namespace");
        assertThatThrownBy(() -> MergePatch.apply(fsmMeshConfig(), "{\"kind\":\"Egress\"}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kind");
    }

    @Test
    void rejectsMalformedOrNonObjectPatches() {
        assertThatThrownBy(() -> MergePatch.apply(fsmMeshConfig(), "{\"spec\":"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> MergePatch.apply(fsmMeshConfig(), "[1,2]"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> MergePatch.apply(fsmMeshConfig(), " "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void rejectsPatchesProducingAnInvalidResource() {
        assertThatThrownBy(() ->
                        MergePatch.apply(fsmMeshConfig(), "{\"spec\":{\"traffic\":{\"enableEgress\":\"maybe\"}}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spec.traffic.enableEgress")
                .hasMessageContaining("true or false");
        Egress egress = reader.read(TestFiles.resource("guide/01-http-egress.yaml"), "x")
                .resourcesOf(Egress.class)
                .get(0);
        assertThatThrownBy(() -> MergePatch.apply(egress, "{\"spec\":{\"host\":[\"evil.example\"]}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown field spec.host")
                .hasMessageContaining("did you mean 'hosts'");
    }

    /** RFC 7386 appendix A test cases on the tree-level function. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"a\":\"b\"}                | {\"a\":\"c\"}            | {\"a\":\"c\"}",
                "{\"a\":\"b\"}                | {\"b\":\"c\"}            | {\"a\":\"b\",\"b\":\"c\"}",
                "{\"a\":\"b\"}                | {\"a\":null}             | {}",
                "{\"a\":\"b\",\"b\":\"c\"}    | {\"a\":null}             | {\"b\":\"c\"}",
                "{\"a\":[\"b\"]}              | {\"a\":\"c\"}            | {\"a\":\"c\"}",
                "{\"a\":\"c\"}                | {\"a\":[\"b\"]}          | {\"a\":[\"b\"]}",
                "{\"a\":{\"b\":\"c\"}}        | {\"a\":{\"b\":\"d\",\"c\":null}} | {\"a\":{\"b\":\"d\"}}",
                "{\"a\":[{\"b\":\"c\"}]}      | {\"a\":[1]}              | {\"a\":[1]}",
                "[\"a\",\"b\"]                | [\"c\",\"d\"]            | [\"c\",\"d\"]",
                "{\"a\":\"b\"}                | [\"c\"]                  | [\"c\"]",
                "{\"a\":\"foo\"}              | null                     | null",
                "{\"a\":\"foo\"}              | \"bar\"                  | \"bar\"",
                "{\"e\":null}                 | {\"a\":1}                | {\"e\":null,\"a\":1}",
                "[1,2]                        | {\"a\":\"b\",\"c\":null} | {\"a\":\"b\"}",
                "{}                           | {\"a\":{\"bb\":{\"ccc\":null}}} | {\"a\":{\"bb\":{}}}"
            })
    void rfc7386Examples(String target, String patch, String expected) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode result = MergePatch.apply(json.readTree(target), json.readTree(patch));
        assertThat(result).isEqualTo(json.readTree(expected));
    }
}
