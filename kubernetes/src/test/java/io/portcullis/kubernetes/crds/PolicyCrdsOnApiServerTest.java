package io.portcullis.kubernetes.crds;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import io.portcullis.testfixtures.EgressManifest;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CRDs in deploy/crds, generated from the crds model, as a real API server enforces them: the guide's manifests
 * pass kubectl's strictest validation, each schema rule refuses a broken manifest with a message naming the field,
 * FSM's {@code mtls} is stored as written, and {@code kubectl get egress -A} shows the status the control plane
 * writes through the status subresource.
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyCrdsOnApiServerTest {

    /** kubectl pads table columns with spaces. */
    private static final Pattern COLUMNS = Pattern.compile("\\s+");

    private static final List<String> GUIDE_MANIFESTS = List.of(
            "01-http-egress.yaml",
            "02-https-egress.yaml",
            "03-tcp-egress.yaml",
            "04-http-route-group-and-egress.yaml",
            "05-http-route-group-updated.yaml");

    private KubeApiServer server;

    @BeforeAll
    void start() {
        server = KubeApiServer.start();
        server.installCrds();
        server.kubectl("create", "namespace", "curl").orThrow();
        server.kubectl("create", "namespace", "refused").orThrow();
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Path guide(String file) {
        return KubeApiServer.deployDirectory()
                .resolve("examples/fsm-egress-guide")
                .resolve(file);
    }

    @Test
    void everyGuideManifestPassesStrictClientSideAndServerSideApply() {
        for (String file : GUIDE_MANIFESTS) {
            String path = guide(file).toString();
            assertThat(server.kubectl("apply", "--validate=strict", "-f", path).orThrow())
                    .as(file)
                    .isNotBlank();
            assertThat(server.kubectl("apply", "--server-side", "--force-conflicts", "--validate=strict", "-f", path)
                            .orThrow())
                    .as(file)
                    .contains("serverside-applied");
        }
        // the guide's own commands read them back by short name
        assertThat(server.kubectl("get", "egress", "-n", "curl", "-o", "name").orThrow())
                .contains("egress.policy.flomesh.io/httpbin-80", "egress.policy.flomesh.io/tcp-443");
        assertThat(server.kubectl("get", "htr", "-n", "curl", "-o", "name").orThrow())
                .contains("httproutegroup.specs.smi-spec.io/egress-http-route");
    }

    static Stream<Arguments> brokenManifests() {
        String sources = "  sources:\n  - {kind: ServiceAccount, name: curl, namespace: curl}\n";
        String hosts = "  hosts: [httpbin.org]\n";
        return Stream.of(
                Arguments.of(
                        "protocol outside the enum",
                        egress(sources + hosts + "  ports:\n  - {number: 80, protocol: udp}\n"),
                        "spec.ports[0].protocol: Unsupported value: \"udp\": supported values: \"http\", \"https\","
                                + " \"tcp\", \"tcp-server-first\""),
                Arguments.of(
                        "protocol in upper case (the enum is FSM's lower-case names)",
                        egress(sources + hosts + "  ports:\n  - {number: 80, protocol: HTTP}\n"),
                        "spec.ports[0].protocol: Unsupported value: \"HTTP\""),
                Arguments.of(
                        "port 0",
                        egress(sources + "  ports:\n  - {number: 0, protocol: tcp}\n"),
                        "spec.ports[0].number: Invalid value: 0: spec.ports[0].number in body should be greater than"
                                + " or equal to 1"),
                Arguments.of(
                        "port 70000",
                        egress(sources
                                + "  ports:\n  - {number: 443, protocol: tcp}\n  - {number: 70000, protocol: tcp}\n"),
                        "spec.ports[1].number: Invalid value: 70000: spec.ports[1].number in body should be less than"
                                + " or equal to 65535"),
                Arguments.of(
                        "port without a number",
                        egress(sources + "  ports:\n  - {protocol: tcp}\n"),
                        "spec.ports[0].number: Required value"),
                Arguments.of(
                        "port without a protocol",
                        egress(sources + "  ports:\n  - {number: 443}\n"),
                        "spec.ports[0].protocol: Required value"),
                Arguments.of("no ports", egress(sources), "spec.ports: Required value"),
                Arguments.of(
                        "empty ports",
                        egress(sources + "  ports: []\n"),
                        "spec.ports: Invalid value: 0: spec.ports in body should have at least 1 items"),
                Arguments.of(
                        "no sources",
                        egress("  ports:\n  - {number: 443, protocol: tcp}\n"),
                        "spec.sources: Required value"),
                Arguments.of(
                        "empty sources",
                        egress("  sources: []\n  ports:\n  - {number: 443, protocol: tcp}\n"),
                        "spec.sources: Invalid value: 0: spec.sources in body should have at least 1 items"),
                Arguments.of(
                        "source kind FSM does not match egress by",
                        egress("""
                                  sources:
                                  - {kind: Pod, name: curl, namespace: curl}
                                  ports:
                                  - {number: 443, protocol: tcp}
                                """),
                        "spec.sources[0].kind: Unsupported value: \"Pod\": supported values: \"ServiceAccount\""),
                Arguments.of("source without a namespace", egress("""
                                  sources:
                                  - {kind: ServiceAccount, name: curl}
                                  ports:
                                  - {number: 443, protocol: tcp}
                                """), "spec.sources[0].namespace: Required value"),
                Arguments.of(
                        "match kind outside the enum",
                        egress(sources + hosts + "  ports:\n  - {number: 80, protocol: http}\n"
                                + "  matches:\n  - {apiGroup: specs.smi-spec.io/v1alpha4, kind: TCPRoute, name: r}\n"),
                        "spec.matches[0].kind: Unsupported value: \"TCPRoute\": supported values: \"HTTPRouteGroup\","
                                + " \"UpstreamTrafficSetting\""),
                Arguments.of(
                        "match without apiGroup",
                        egress(sources + hosts + "  ports:\n  - {number: 80, protocol: http}\n"
                                + "  matches:\n  - {kind: HTTPRouteGroup, name: r}\n"),
                        "spec.matches[0].apiGroup: Required value"),
                Arguments.of(
                        "match kind paired with the other kind's apiGroup",
                        egress(
                                sources + hosts + "  ports:\n  - {number: 80, protocol: http}\n"
                                        + "  matches:\n  - {apiGroup: policy.flomesh.io/v1alpha1, kind: HTTPRouteGroup, name: r}\n"),
                        "spec.matches[0].kind: Invalid value: \"object\": kind HTTPRouteGroup goes with apiGroup"
                                + " specs.smi-spec.io/v1alpha4, kind UpstreamTrafficSetting with apiGroup"
                                + " policy.flomesh.io/v1alpha1"),
                Arguments.of(
                        "route group without matches",
                        routeGroup("  matches: []\n"),
                        "spec.matches: Invalid value: 0: spec.matches in body should have at least 1 items"),
                Arguments.of(
                        "route group match without a name",
                        routeGroup("  matches:\n  - {pathRegex: /get}\n"),
                        "spec.matches[0].name: Required value"),
                Arguments.of(
                        "route group method outside SMI's list",
                        routeGroup("  matches:\n  - {name: m, methods: [GET, FETCH]}\n"),
                        "spec.matches[0].methods[1]: Unsupported value: \"FETCH\""));
    }

    private static String egress(String spec) {
        return "kind: Egress\napiVersion: policy.flomesh.io/v1alpha1\nmetadata:\n  name: broken\n  namespace: refused\n"
                + "spec:\n" + spec;
    }

    private static String routeGroup(String spec) {
        return "kind: HTTPRouteGroup\napiVersion: specs.smi-spec.io/v1alpha4\nmetadata:\n  name: broken\n"
                + "  namespace: refused\nspec:\n" + spec;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenManifests")
    void theApiServerRefusesABrokenManifestNamingTheField(String what, String manifest, String message) {
        KubectlResult applied = server.kubectlWithStdin(manifest, "apply", "--validate=strict", "-f", "-");

        assertThat(applied.exitCode()).as(what + "\n" + applied.stdout()).isNotZero();
        assertThat(applied.stderr()).as(what).contains(message);
        // nothing was stored
        assertThat(server.kubectl("get", "egress,htr", "-n", "refused", "-o", "name")
                        .orThrow())
                .isEmpty();
    }

    @Test
    void anUnknownFieldIsRefusedByStrictDecodingNamingIt() {
        KubectlResult applied = server.kubectlWithStdin(egress("""
                          sources:
                          - {kind: ServiceAccount, name: curl, namespace: curl, nmae: typo}
                          ports:
                          - {number: 443, protocol: tcp}
                        """), "apply", "--validate=strict", "-f", "-");

        assertThat(applied.exitCode()).isNotZero();
        assertThat(applied.stderr()).contains("unknown field \"spec.sources[0].nmae\"");
    }

    @Test
    void fsmSourceMtlsIsStoredAsFsmWritesIt() {
        String fsmManifest = """
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata:
                  name: with-mtls
                  namespace: curl
                spec:
                  sources:
                  - kind: ServiceAccount
                    name: curl
                    namespace: curl
                    mtls:
                      issuer: other
                      cert:
                        sn: 1
                        subjectAltNames:
                        - curl.curl.cluster.local
                        expiration: 2030-11-26 12:00:00
                        secret:
                          name: egress-mtls-secret
                          namespace: fsm-system
                  hosts:
                  - httpbin.org
                  ports:
                  - number: 443
                    protocol: https
                """;
        server.kubectlWithStdin(fsmManifest, "apply", "--validate=strict", "-f", "-")
                .orThrow();

        String stored = server.kubectl(
                        "get", "egress", "with-mtls", "-n", "curl", "-o", "jsonpath={.spec.sources[0].mtls}")
                .orThrow();
        assertThat(stored)
                .contains(
                        "\"issuer\":\"other\"",
                        "\"sn\":1",
                        "\"subjectAltNames\":[\"curl.curl.cluster.local\"]",
                        "\"name\":\"egress-mtls-secret\"");
    }

    @Test
    void routeGroupHeadersAreStoredBothAsSmisMappingAndAsFsmsListOfMappings() {
        String mapping = """
                  matches:
                  - name: curl-only
                    headers:
                      user-agent: ".*curl.*"
                """;
        String fsmList = """
                  matches:
                  - name: curl-only
                    headers:
                    - user-agent: ".*curl.*"
                    - x-team: egress
                """;
        server.kubectlWithStdin(routeGroupNamed("smi-headers", mapping), "apply", "--validate=strict", "-f", "-")
                .orThrow();
        server.kubectlWithStdin(routeGroupNamed("fsm-headers", fsmList), "apply", "--validate=strict", "-f", "-")
                .orThrow();

        assertThat(headers("smi-headers")).isEqualTo("{\"user-agent\":\".*curl.*\"}");
        assertThat(headers("fsm-headers")).isEqualTo("[{\"user-agent\":\".*curl.*\"},{\"x-team\":\"egress\"}]");
    }

    private static String routeGroupNamed(String name, String spec) {
        return "kind: HTTPRouteGroup\napiVersion: specs.smi-spec.io/v1alpha4\nmetadata:\n  name: " + name
                + "\n  namespace: curl\nspec:\n" + spec;
    }

    private String headers(String routeGroup) {
        return server.kubectl("get", "htr", routeGroup, "-n", "curl", "-o", "jsonpath={.spec.matches[0].headers}")
                .orThrow();
    }

    @Test
    void getEgressAllNamespacesShowsHostsPortsAndTheAcceptedConditionWrittenThroughTheStatusSubresource() {
        server.kubectlWithStdin(
                        EgressManifest.named("shown-accepted")
                                .host("httpbin.org", "example.org")
                                .port(80, "http")
                                .port(8080, "http")
                                .yaml(),
                        "apply",
                        "-f",
                        "-")
                .orThrow();
        server.kubectlWithStdin(
                        EgressManifest.named("shown-refused")
                                .port(22, "tcp-server-first")
                                .yaml(),
                        "apply",
                        "-f",
                        "-")
                .orThrow();
        server.kubectlWithStdin(
                        EgressManifest.named("shown-unseen").port(5432, "tcp").yaml(), "apply", "-f", "-")
                .orThrow();
        patchStatus("shown-accepted", "True", "Accepted", "enforced for curl/curl");
        patchStatus(
                "shown-refused", "False", "PortClash", "spec.ports[0]: port 22 is tcp-server-first in another policy");

        String table = server.kubectl("get", "egress", "-A").orThrow();

        List<String> lines = table.lines().toList();
        assertThat(COLUMNS.splitAsStream(lines.get(0).strip()))
                .containsExactly("NAMESPACE", "NAME", "AGE", "HOSTS", "PORTS", "ACCEPTED");
        assertThat(row(lines, "shown-accepted"))
                .contains(
                        "[\"httpbin.org\",\"example.org\"]",
                        "[{\"number\":80,\"protocol\":\"http\"},{\"number\":8080,\"protocol\":\"http\"}]")
                .endsWith("True");
        assertThat(row(lines, "shown-refused")).contains("tcp-server-first").endsWith("False");
        // no status yet: the column is empty, never a guess
        assertThat(row(lines, "shown-unseen")).doesNotContain("True", "False");
    }

    @Test
    void statusIsWrittenOnlyThroughTheStatusSubresourceAndTheSpecOnlyOutsideIt() {
        server.kubectlWithStdin(
                        EgressManifest.named("status-split").port(443, "tcp").yaml(), "apply", "-f", "-")
                .orThrow();

        // a status in a write of the main resource is dropped, as a user's kubectl apply would
        server.kubectl(
                        "patch",
                        "egress",
                        "status-split",
                        "-n",
                        "curl",
                        "--type=merge",
                        "-p",
                        "{\"status\":{\"observedGeneration\":7}}")
                .orThrow();
        assertThat(jsonPath("status-split", "{.status}")).isEmpty();

        // and a spec in a write of the status subresource is dropped, so the control plane cannot change a policy
        server.kubectl(
                        "patch",
                        "egress",
                        "status-split",
                        "-n",
                        "curl",
                        "--subresource=status",
                        "--type=merge",
                        "-p",
                        "{\"spec\":{\"ports\":[{\"number\":1,\"protocol\":\"tcp\"}]},\"status\":{\"observedGeneration\":1}}")
                .orThrow();
        assertThat(jsonPath("status-split", "{.status.observedGeneration}")).isEqualTo("1");
        assertThat(jsonPath("status-split", "{.spec.ports[0].number}")).isEqualTo("443");
    }

    @Test
    void httpRouteGroupHasAStatusSubresourceAndShowsAccepted() {
        server.kubectl("apply", "-f", guide("05-http-route-group-updated.yaml").toString())
                .orThrow();
        server.kubectl(
                        "patch",
                        "htr",
                        "egress-http-route",
                        "-n",
                        "curl",
                        "--subresource=status",
                        "--type=merge",
                        "-p",
                        condition("True", "Accepted", "2 matches"))
                .orThrow();

        List<String> lines =
                server.kubectl("get", "htr", "-n", "curl").orThrow().lines().toList();
        assertThat(COLUMNS.splitAsStream(lines.get(0).strip())).containsExactly("NAME", "AGE", "ACCEPTED");
        assertThat(row(lines, "egress-http-route")).endsWith("True");
    }

    private void patchStatus(String egress, String status, String reason, String message) {
        server.kubectl(
                        "patch",
                        "egress",
                        egress,
                        "-n",
                        "curl",
                        "--subresource=status",
                        "--type=merge",
                        "-p",
                        condition(status, reason, message))
                .orThrow();
    }

    private static String condition(String status, String reason, String message) {
        return "{\"status\":{\"observedGeneration\":1,\"conditions\":[{\"type\":\"Accepted\",\"status\":\"" + status
                + "\",\"reason\":\"" + reason + "\",\"message\":\"" + message
                + "\",\"lastTransitionTime\":\"2026-11-26T12:00:00Z\",\"observedGeneration\":1}]}}";
    }

    private String jsonPath(String egress, String path) {
        return server.kubectl("get", "egress", egress, "-n", "curl", "-o", "jsonpath=" + path)
                .orThrow();
    }

    private static String row(List<String> lines, String name) {
        return lines.stream()
                .map(String::strip)
                .filter(l -> COLUMNS.splitAsStream(l.strip()).anyMatch(name::equals))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " not listed in\n" + String.join("\n", lines)));
    }
}
