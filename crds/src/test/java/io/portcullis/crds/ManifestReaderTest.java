package io.portcullis.crds;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testfixtures.EgressManifest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestReaderTest {
    private final ManifestReader reader = new ManifestReader();

    private static final String GOOD_EGRESS = EgressManifest.named("httpbin-80")
            .host("httpbin.org")
            .port(80, "http")
            .yaml();

    private static final String GOOD_ROUTES = """
      apiVersion: specs.smi-spec.io/v1alpha4
      kind: HTTPRouteGroup
      metadata:
        name: egress-http-route
        namespace: curl
      spec:
        matches:
        - name: get
          pathRegex: /get
      """;

    @Test
    void badDocumentsAreReportedPreciselyAndGoodOnesStillLoad() {
        String stream = GOOD_EGRESS
                + "---\n"
                + "kind: Egress\n" // document 1: malformed (line 19 of the stream)
                + "apiVersion: policy.flomesh.io/v1alpha1\n"
                + "metadata:\n"
                + "  name: broken\n"
                + " namespace: curl\n"
                + "---\n"
                + """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              namespace: curl
            spec:
              ports:
              - number: 443
                protocol: tcp
            ---
            kind: Egress
            apiVersion: policy.flomesh.io/v1beta9
            metadata:
              name: httpbin-443
              namespace: curl
            spec:
              ports:
              - number: 443
                protocol: https
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: curl
              namespace: curl
            spec:
              replicas: 1
            ---
            """
                + GOOD_ROUTES;

        ManifestSet set = reader.read(stream, "policies.yaml");

        assertThat(set.resources()).hasSize(2);
        assertThat(set.resources().get(0)).isInstanceOf(Egress.class);
        assertThat(set.resources().get(0).getMetadata().getName()).isEqualTo("httpbin-80");
        assertThat(set.resources().get(1)).isInstanceOf(HTTPRouteGroup.class);

        assertThat(set.problems()).hasSize(3);
        ManifestProblem malformed = set.problems().get(0);
        assertThat(malformed.origin()).isEqualTo("policies.yaml");
        assertThat(malformed.documentIndex()).isEqualTo(1);
        assertThat(malformed.resource()).isNull();
        assertThat(malformed.message()).startsWith("malformed YAML at line 21, column 2");

        ManifestProblem noName = set.problems().get(1);
        assertThat(noName.documentIndex()).isEqualTo(2);
        assertThat(noName.resource()).isEqualTo("Egress");
        assertThat(noName.message()).startsWith("metadata.name is missing").contains("metadata: {name:");

        ManifestProblem wrongVersion = set.problems().get(2);
        assertThat(wrongVersion.documentIndex()).isEqualTo(3);
        assertThat(wrongVersion.resource()).isEqualTo("Egress curl/httpbin-443");
        assertThat(wrongVersion.message())
                .contains("apiVersion policy.flomesh.io/v1beta9 is not supported for Egress")
                .contains("change apiVersion to policy.flomesh.io/v1alpha1");
        assertThat(wrongVersion.toString())
                .isEqualTo("policies.yaml: document 4 (Egress curl/httpbin-443): " + wrongVersion.message());

        assertThat(set.ignored()).singleElement().satisfies(ignored -> {
            assertThat(ignored.documentIndex()).isEqualTo(4);
            assertThat(ignored.resource()).isEqualTo("Deployment curl/curl");
            assertThat(ignored.message()).startsWith("ignored: apps/v1 Deployment is not a kind");
        });
    }

    @Test
    void emptyDocumentsAndCommentsAreSkipped() {
        ManifestSet set = reader.read("---\n# just a comment\n---   # another\n\n---\n" + GOOD_EGRESS + "---\n", "x");
        assertThat(set.problems()).isEmpty();
        assertThat(set.ignored()).isEmpty();
        assertThat(set.resources()).hasSize(1);
        assertThat(reader.read("", "x").resources()).isEmpty();
        assertThat(reader.read(null, "x").problems()).isEmpty();
    }

    @Test
    void separatorWithTrailingContentIsNotASeparatorLikeKubectl() {
        // kubectl only splits on lines that are "---" plus blanks or a comment
        ManifestSet set = reader.read(GOOD_EGRESS + "--- \n" + GOOD_ROUTES, "x");
        assertThat(set.resources()).hasSize(2);
    }

    @Test
    void missingNamespaceIsLeftNullForTheCaller() {
        ManifestSet set = reader.read(GOOD_EGRESS.replace("  namespace: curl\nspec", "spec"), "x");
        assertThat(set.problems()).isEmpty();
        assertThat(set.resources().get(0).getMetadata().getNamespace()).isNull();
        assertThat(set.resources().get(0).getMetadata().getName()).isEqualTo("httpbin-80");
    }

    @Test
    void kindListItemsAreRead() {
        String list = """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: policy.flomesh.io/v1alpha1
          kind: Egress
          metadata: {name: a, namespace: curl}
          spec:
            sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
            ports: [{number: 443, protocol: tcp}]
        - apiVersion: v1
          kind: Service
          metadata: {name: svc}
        - apiVersion: policy.flomesh.io/v1alpha1
          kind: Egress
          metadata: {namespace: curl}
          spec:
            ports: [{number: 443, protocol: tcp}]
        """;
        ManifestSet set = reader.read(list, "list.yaml");
        assertThat(set.resources()).singleElement().isInstanceOf(Egress.class);
        assertThat(set.problems()).singleElement().satisfies(p -> {
            assertThat(p.documentIndex()).isZero();
            assertThat(p.message()).startsWith("items[2]: metadata.name is missing");
        });
        assertThat(set.ignored())
                .singleElement()
                .satisfies(p -> assertThat(p.message()).startsWith("items[1]: ignored: v1 Service"));
    }

    @Test
    void unknownFieldsInEgressAreAllReportedWithSuggestions() {
        String typo = GOOD_EGRESS
                .replace("  hosts:", "  host:")
                .replace("    namespace: curl\n  host", "    namespce: curl\n  host");
        ManifestSet set = reader.read(typo, "typo.yaml");
        assertThat(set.resources()).isEmpty();
        assertThat(set.problems())
                .extracting(ManifestProblem::message)
                .satisfiesExactly(
                        m -> assertThat(m)
                                .startsWith("unknown field spec.sources[0].namespce: did you mean 'namespace'?"),
                        m -> assertThat(m)
                                .startsWith("unknown field spec.host: did you mean 'hosts'?")
                                .contains("Allowed fields in spec: hosts, ipAddresses, matches, ports, sources"));
        assertThat(set.problems()).allSatisfy(p -> assertThat(p.resource()).isEqualTo("Egress curl/httpbin-80"));
    }

    @Test
    void wrongValueTypesNameTheField() {
        ManifestSet set = reader.read(
                GOOD_EGRESS.replace("number: 80", "number: eighty")
                        + "---\n"
                        + GOOD_EGRESS.replace("  - httpbin.org\n", "").replace("  hosts:\n", "  hosts: httpbin.org\n")
                        + "---\n"
                        + GOOD_EGRESS.replace("number: 80", "number: 80.5"),
                "types.yaml");
        assertThat(set.resources()).isEmpty();
        assertThat(set.problems())
                .extracting(ManifestProblem::message)
                .containsExactly(
                        "spec.ports[0].number has the wrong type: expected a whole number but found the string"
                                + " \"eighty\"; change the value to a whole number",
                        "spec.hosts has the wrong type: expected a list but found the string \"httpbin.org\";"
                                + " change the value to a list",
                        "spec.ports[0].number has the wrong type: expected a whole number but found number 80.5;"
                                + " change the value to a whole number");
    }

    @Test
    void emptyListEntryIsAProblemNotANullPointer() {
        ManifestSet set = reader.read(GOOD_EGRESS.replace("  - httpbin.org\n", "  - httpbin.org\n  - null\n"), "x");
        assertThat(set.problems())
                .singleElement()
                .satisfies(p -> assertThat(p.message()).startsWith("spec.hosts[1] is empty (null)"));
    }

    @Test
    void portValuesAreKeptRaw() {
        ManifestSet set = reader.read(
                GOOD_EGRESS.replace("number: 80\n    protocol: http", "number: 70000\n    protocol: gopher"), "x");
        assertThat(set.problems()).isEmpty();
        assertThat(set.resourcesOf(Egress.class).get(0).getSpec().ports())
                .containsExactly(new EgressPort(70000, "gopher"));
    }

    @Test
    void knownKindFromAnotherGroupOrMisspeltIsAProblem() {
        ManifestSet set = reader.read(
                GOOD_EGRESS.replace("policy.flomesh.io", "policy.openservicemesh.io")
                        + "---\n"
                        + GOOD_EGRESS.replace("kind: Egress", "kind: egress")
                        + "---\n"
                        + GOOD_EGRESS.replace("apiVersion: policy.flomesh.io/v1alpha1\n", ""),
                "x");
        assertThat(set.resources()).isEmpty();
        assertThat(set.problems())
                .extracting(ManifestProblem::message)
                .satisfiesExactly(
                        m -> assertThat(m)
                                .startsWith(
                                        "apiVersion policy.openservicemesh.io/v1alpha1 is not the API group of Egress")
                                .endsWith("change apiVersion to policy.flomesh.io/v1alpha1"),
                        m -> assertThat(m).startsWith("unknown kind 'egress': did you mean 'Egress'?"),
                        m -> assertThat(m)
                                .isEqualTo("apiVersion is missing: add apiVersion: policy.flomesh.io/v1alpha1"));
    }

    @Test
    void metadataProblemsNameTheFieldAndTheFix() {
        ManifestSet set = reader.read(
                GOOD_EGRESS.replace("name: httpbin-80", "name: Httpbin_80")
                        + "---\n"
                        + GOOD_EGRESS.replace("namespace: curl\nspec", "namespace: Curl\nspec")
                        + "---\n"
                        + GOOD_EGRESS.replace("name: httpbin-80", "name: 80")
                        + "---\n"
                        + "kind: Egress\napiVersion: policy.flomesh.io/v1alpha1\nspec: {}\n"
                        + "---\n"
                        + "kind: Egress\napiVersion: policy.flomesh.io/v1alpha1\nmetadata: {name: x}\n"
                        + "---\n"
                        + "just a string\n"
                        + "---\n"
                        + "apiVersion: v1\nmetadata: {name: x}\n",
                "x");
        assertThat(set.problems())
                .extracting(ManifestProblem::message)
                .satisfiesExactly(
                        m -> assertThat(m).startsWith("metadata.name 'Httpbin_80' is not a valid Kubernetes name"),
                        m -> assertThat(m).startsWith("metadata.namespace 'Curl' is not a valid namespace name"),
                        m -> assertThat(m)
                                .startsWith("metadata.name must be a string")
                                .contains("name: \"80\""),
                        m -> assertThat(m).startsWith("metadata is missing: add metadata.name"),
                        m -> assertThat(m).isEqualTo("spec is missing: an Egress needs spec.sources and spec.ports"),
                        m -> assertThat(m)
                                .startsWith("the document is the string \"just a string\", not a Kubernetes object"),
                        m -> assertThat(m).startsWith("kind is missing"));
        assertThat(set.problems()).extracting(ManifestProblem::documentIndex).containsExactly(0, 1, 2, 3, 4, 5, 6);
    }

    /** The same rule as a ServiceAccount name in a policy and in a sidecar's node id: each part at most 63. */
    @Test
    void nameWithADotSeparatedPartLongerThan63CharactersIsRejected() {
        String name = "a".repeat(64) + ".b";
        ManifestSet set = reader.read(GOOD_EGRESS.replace("name: httpbin-80", "name: " + name), "x");
        assertThat(set.problems())
                .extracting(ManifestProblem::message)
                .singleElement()
                .satisfies(
                        m -> assertThat(m).startsWith("metadata.name '" + name + "' is not a valid Kubernetes name"));
    }

    @Test
    void duplicateKeysAreMalformedNotLastOneWins() {
        ManifestSet set = reader.read(GOOD_ROUTES + "---\n" + GOOD_EGRESS + "  hosts:\n  - evil.example\n", "x");
        assertThat(set.resources()).singleElement().isInstanceOf(HTTPRouteGroup.class);
        assertThat(set.problems()).singleElement().satisfies(p -> {
            assertThat(p.documentIndex()).isEqualTo(1);
            assertThat(p.message())
                    .isEqualTo(
                            "malformed YAML at line 26: the key 'hosts' appears twice in the same mapping; keep only one");
        });
    }

    @Test
    void serverWrittenStatusIsDropped() {
        ManifestSet set = reader.read(GOOD_EGRESS + "status:\n  currentStatus: ok\n", "x");
        assertThat(set.problems()).isEmpty();
        assertThat(set.resources().get(0)).isInstanceOf(Egress.class);
    }

    @Test
    void httpRouteGroupHeadersInMapAndListFormKeepOrder() {
        String yaml = """
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: HTTPRouteGroup
        metadata: {name: r, namespace: curl}
        spec:
          matches:
          - name: smi-form
            methods: [GET, HEAD]
            headers:
              x-zeta: "z"
              user-agent: ".*Android.*"
              cookie: "^(.*?;)?(type=insider)(;.*)?$"
          - name: fsm-form
            headers:
            - "user-agent": ".*-http-client/*.*"
            - "client-app": "bookbuyer"
        """;
        ManifestSet set = reader.read(yaml, "x");
        assertThat(set.problems()).isEmpty();
        List<HttpMatch> matches =
                set.resourcesOf(HTTPRouteGroup.class).get(0).getSpec().matches();
        assertThat(matches.get(0).methods()).containsExactly("GET", "HEAD");
        assertThat(matches.get(0).headers().keySet()).containsExactly("x-zeta", "user-agent", "cookie");
        assertThat(matches.get(0).headers()).containsEntry("cookie", "^(.*?;)?(type=insider)(;.*)?$");
        assertThat(matches.get(1).headers())
                .containsExactly(Map.entry("user-agent", ".*-http-client/*.*"), Map.entry("client-app", "bookbuyer"));

        String written = new ManifestWriter().writeAll(set.resources());
        ManifestSet again = reader.read(written, "written");
        assertThat(again.resources()).isEqualTo(set.resources());
        assertThat(again.resourcesOf(HTTPRouteGroup.class)
                        .get(0)
                        .getSpec()
                        .matches()
                        .get(0)
                        .headers()
                        .keySet())
                .containsExactly("x-zeta", "user-agent", "cookie");
    }

    @Test
    void headerProblemsAreExplained() {
        String yaml = """
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: HTTPRouteGroup
        metadata: {name: r}
        spec:
          matches:
          - name: a
            headers: user-agent
        """;
        assertThat(reader.read(yaml, "x").problems())
                .singleElement()
                .satisfies(
                        p -> assertThat(p.message()).startsWith("spec.matches[0].headers: headers must be a mapping"));
    }

    @Test
    void meshConfigKeepsUnknownFieldsAndOnlyV1alpha3IsRead() {
        String yaml = TestFiles.resource("fsm-mesh-config.yaml");
        ManifestSet set = reader.read(yaml + "---\n" + yaml.replace("v1alpha3", "v1alpha2"), "mc");
        assertThat(set.resources()).singleElement().isInstanceOf(MeshConfig.class);
        MeshConfig mc = (MeshConfig) set.resources().get(0);
        assertThat(mc.getMetadata().getName()).isEqualTo(MeshConfig.DEFAULT_NAME);
        assertThat(mc.getMetadata().getNamespace()).isEqualTo(MeshConfig.DEFAULT_NAMESPACE);
        assertThat(mc.getSpec().featureFlags().enableEgressPolicy()).isFalse();
        assertThat(mc.getSpec().traffic().enableEgress()).isTrue();
        assertThat(mc.getSpec().otherFields()).containsKey("sidecar");
        assertThat(set.problems()).singleElement().satisfies(p -> {
            assertThat(p.resource()).isEqualTo("MeshConfig fsm-system/fsm-mesh-config");
            assertThat(p.message()).contains("config.flomesh.io/v1alpha2 is not supported for MeshConfig");
        });
    }

    @Test
    void bytesThatAreNotUtf8AreAProblemNamingLineAndColumnNotAnException() {
        byte[] latin1 = ("# caf\u00e9\n" + GOOD_EGRESS).getBytes(StandardCharsets.ISO_8859_1);

        ManifestSet set = reader.readUtf8(latin1, "latin1.yaml");

        assertThat(set.resources()).isEmpty();
        assertThat(set.problems()).singleElement().satisfies(p -> {
            assertThat(p.documentIndex()).isEqualTo(ManifestProblem.WHOLE_TEXT);
            assertThat(p.toString())
                    .startsWith("latin1.yaml: not valid UTF-8: byte 0xE9 at line 1, column 6")
                    .contains("re-save the file as UTF-8");
        });
    }

    @Test
    void utf8BytesReadLikeTheText() {
        ManifestSet set = reader.readUtf8(("# caf\u00e9\n" + GOOD_EGRESS).getBytes(StandardCharsets.UTF_8), "ok");
        assertThat(set.problems()).isEmpty();
        assertThat(set.resources()).singleElement().isInstanceOf(Egress.class);
    }

    @Test
    void textOverTheSizeLimitIsRefusedBeforeParsing() {
        String huge = GOOD_EGRESS + "# " + "x".repeat(ManifestReader.MAX_BYTES) + "\n";

        assertThat(reader.read(huge, "huge.yaml").problems())
                .singleElement()
                .satisfies(p -> assertThat(p.toString())
                        .startsWith("huge.yaml: larger than 1048576 bytes")
                        .contains("split it into several files"));
        assertThat(reader.readUtf8(huge.getBytes(StandardCharsets.UTF_8), "huge.yaml")
                        .resources())
                .isEmpty();
    }

    @Test
    void anAliasIsRefusedInsteadOfReadAsTheTextOfItsName() {
        String yaml = GOOD_EGRESS.replace("- httpbin.org", "- &site httpbin.org\n  - *site");

        ManifestSet set = reader.read(yaml, "alias.yaml");

        assertThat(set.resources()).isEmpty();
        assertThat(set.problems())
                .singleElement()
                .satisfies(p -> assertThat(p.message())
                        .startsWith("YAML alias *site at line 13")
                        .contains("write the value out in full"));
    }

    @Test
    void billionLaughsIsRefusedNotExpanded() {
        StringBuilder bomb =
                new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'j'; c++) {
            char prev = (char) (c - 1);
            bomb.append(c)
                    .append(": &")
                    .append(c)
                    .append(" [")
                    .append(String.join(",", java.util.Collections.nCopies(9, "*" + prev)))
                    .append("]\n");
        }
        ManifestSet set = reader.read("kind: Egress\napiVersion: policy.flomesh.io/v1alpha1\n" + bomb, "bomb.yaml");

        assertThat(set.resources()).isEmpty();
        assertThat(set.problems())
                .singleElement()
                .satisfies(p -> assertThat(p.message()).contains("aliases are not supported"));
    }

    @Test
    void nestingDeeperThanTheLimitIsAProblemWithItsFix() {
        String deep = GOOD_EGRESS + "extra: " + "[".repeat(ManifestReader.MAX_NESTING_DEPTH + 10) + "\n";

        ManifestSet set = reader.read(deep, "deep.yaml");

        assertThat(set.resources()).isEmpty();
        assertThat(set.problems())
                .singleElement()
                .satisfies(p -> assertThat(p.message()).startsWith("nested more than 64 levels deep"));
    }
}
