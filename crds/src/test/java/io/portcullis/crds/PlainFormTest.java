package io.portcullis.crds;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ManifestReader#readObjects} keeps a document in plain form as a tree (so {@code portcullis apply} does
 * not bind the fabric8 model) and binds every other: either way it must report what {@link ManifestReader#read}
 * reports and write what {@link ManifestWriter} writes for the bound resource, byte for byte.
 */
class PlainFormTest {
    private final ManifestReader reader = new ManifestReader();
    private final ManifestWriter writer = new ManifestWriter();

    private static final String EGRESS = """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: httpbin-80
              namespace: curl
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
            """;

    private static final String ROUTE_GROUP = """
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata:
              name: routes
              namespace: curl
            spec:
              matches:
              - name: get
                pathRegex: /get
                methods: [GET, "*"]
                headers:
                  accept: application/json
                  x-n: "5"
            """;

    /** Documents in plain form, in every shape the model writes differently (order, empty lists, metadata). */
    static List<String> plainDocuments() {
        return List.of(
                EGRESS,
                EGRESS.replace("  namespace: curl\nspec", "spec"), // no namespace: the default or -n
                // fields in another order than the model's, empty lists, labels and annotations
                """
                spec:
                  ports:
                  - protocol: tcp
                    number: 5432
                  - {number: 443, protocol: https}
                  ipAddresses: ["10.0.0.0/24", ""]
                  hosts: []
                  matches:
                  - name: routes
                    kind: HTTPRouteGroup
                    apiGroup: specs.smi-spec.io/v1alpha4
                  sources:
                  - namespace: curl
                    name: curl
                    kind: ServiceAccount
                metadata:
                  namespace: team-1
                  name: pg
                  labels: {app: curl, tier: "80"}
                  annotations: {note: "true", z: a}
                apiVersion: policy.flomesh.io/v1alpha1
                kind: Egress
                """,
                "{\"apiVersion\":\"policy.flomesh.io/v1alpha1\",\"kind\":\"Egress\",\"metadata\":{\"name\":\"j\"},"
                        + "\"spec\":{\"ports\":[{\"number\":22,\"protocol\":\"tcp-server-first\"}]}}",
                ROUTE_GROUP,
                ROUTE_GROUP.replace("    headers:\n      accept: application/json\n      x-n: \"5\"\n", ""));
    }

    /** Documents the model reads, but not in plain form: coerced, kept as written, or left out when empty. */
    static List<String> otherDocuments() {
        return List.of(
                EGRESS.replace("number: 80", "number: \"80\""),
                EGRESS.replace("name: curl\n    namespace", "name: 7\n    namespace"),
                EGRESS.replace("  - httpbin.org", "  - httpbin.org\n  ipAddresses: null"),
                EGRESS.replace(
                        "    namespace: curl\n  hosts",
                        "    namespace: curl\n    mtls:\n      issuer: other\n      cert: {sn: 1}\n  hosts"),
                EGRESS.replace("  namespace: curl\nspec", "  namespace: curl\n  labels: {}\n  uid: x\nspec"),
                EGRESS.replace("  namespace: curl\nspec", "  namespace: curl\n  labels: {n: 1}\nspec"),
                EGRESS + "status:\n  conditions: []\n",
                EGRESS.replace("protocol: http", "protocol: \"\""),
                ROUTE_GROUP.replace("      accept: application/json\n      x-n: \"5\"\n", "    - accept: text/plain\n"),
                ROUTE_GROUP.replace("      accept: application/json\n", "      accept: 5\n"),
                ROUTE_GROUP.replace(
                        "    headers:\n      accept: application/json\n      x-n: \"5\"\n", "    headers: {}\n"),
                """
                apiVersion: config.flomesh.io/v1alpha3
                kind: MeshConfig
                metadata:
                  name: fsm-mesh-config
                spec:
                  traffic:
                    enableEgress: false
                """,
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: curl\n  annotations: {portcullis.io/egress-mode: audit}\n");
    }

    @ParameterizedTest
    @MethodSource("plainDocuments")
    void aPlainDocumentIsKeptAsATreeAndWrittenAsTheModelWritesIt(String document) {
        ManifestObject object = onlyObject(document);
        assertThat(object).isInstanceOf(ManifestObject.Plain.class);
        assertWrittenAsTheModelWrites(document, object);
    }

    @ParameterizedTest
    @MethodSource("otherDocuments")
    void anyOtherDocumentIsBoundToTheModelAndWrittenTheSame(String document) {
        ManifestObject object = onlyObject(document);
        assertThat(object).isInstanceOf(ManifestObject.Bound.class);
        assertWrittenAsTheModelWrites(document, object);
    }

    private static final String EGRESS_X =
            "kind: Egress\napiVersion: policy.flomesh.io/v1alpha1\nmetadata: {name: x}\n";

    static List<String> documentsWithProblems() {
        return List.of(
                EGRESS_X + "spec:\n  host: [a]\n",
                EGRESS_X + "spec:\n  hosts: a\n",
                EGRESS_X + "spec:\n  ports: [null]\n",
                EGRESS_X + "spec:\n  ports:\n  - number: 1.5\n",
                EGRESS_X + "spec:\n  ports:\n  - {number: 80, protocol: http, extra: 1}\n",
                EGRESS_X + "spec: {}\nhello: 1\n",
                EGRESS_X.replace("name: x", "name: X") + "spec: {}\n",
                EGRESS_X.replace("v1alpha1", "v1alpha2") + "spec: {}\n",
                EGRESS_X + "spec:\n  sources: [{a: 1}]\n",
                """
                kind: HTTPRouteGroup
                apiVersion: specs.smi-spec.io/v1alpha4
                metadata: {name: x}
                spec:
                  matches:
                  - headers: [a]
                """);
    }

    @ParameterizedTest
    @MethodSource("documentsWithProblems")
    void aDocumentWithProblemsHasTheModelsProblems(String document) {
        ManifestObject.Objects objects = reader.readObjects(document, "test.yaml");
        ManifestSet set = reader.read(document, "test.yaml");
        assertThat(set.problems()).isNotEmpty();
        assertThat(objects.problems()).isEqualTo(set.problems());
        assertThat(objects.objects()).isEmpty();
    }

    private ManifestObject onlyObject(String document) {
        ManifestObject.Objects objects =
                reader.readObjects(document.getBytes(java.nio.charset.StandardCharsets.UTF_8), "test.yaml");
        assertThat(objects.problems()).isEmpty();
        assertThat(objects.objects()).hasSize(1);
        return objects.objects().get(0);
    }

    private void assertWrittenAsTheModelWrites(String document, ManifestObject object) {
        ManifestSet set = reader.read(document, "test.yaml");
        assertThat(set.problems()).isEmpty();
        HasMetadata resource = set.resources().get(0);
        assertThat(object.kind().type()).isEqualTo(resource.getClass());
        assertThat(object.name()).isEqualTo(resource.getMetadata().getName());
        assertThat(object.namespace()).isEqualTo(resource.getMetadata().getNamespace());
        assertThat(object.displayName())
                .isEqualTo(resource.getKind().toLowerCase(java.util.Locale.ROOT)
                        + (resource.getApiVersion().contains("/")
                                ? "."
                                        + resource.getApiVersion()
                                                .substring(
                                                        0,
                                                        resource.getApiVersion().indexOf('/'))
                                : "")
                        + "/" + resource.getMetadata().getName());
        for (String namespace : new String[] {"curl", "other", null}) {
            if (object.kind().clusterScoped() && namespace != null) {
                continue;
            }
            resource.getMetadata().setNamespace(namespace);
            assertThat(object.yaml(namespace)).isEqualTo(writer.write(resource));
        }
    }
}
