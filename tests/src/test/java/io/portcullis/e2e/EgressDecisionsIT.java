package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What a sidecar reports of its egress decisions, with real Envoy, curl and servers: the JSON decision
 * line on its stdout, the per-policy counter {@code envoy_portcullis_egress_decisions} on its admin
 * {@code /stats/prometheus}, and audit mode switched on and off with {@code portcullis apply} of a
 * Namespace manifest, as a user would (docs/observability.md).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EgressDecisionsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final String COUNTER = "envoy_portcullis_egress_decisions";
    private static final String POLICY = "curl/httpbin-80";
    /** flomesh.io in the lab's DNS. */
    private static final String FLOMESH_443 = "198.18.0.81:443";

    private static final String NAMESPACE_AUDIT = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: curl
              annotations:
                portcullis.io/egress-mode: audit
            """;
    private static final String NAMESPACE_ENFORCE =
            NAMESPACE_AUDIT.replace("egress-mode: audit", "egress-mode: enforce");

    /** Audit for TCP on 443 only, for curl/curl: the policy's range does not hold flomesh.io's address. */
    private static final String TCP_443_AUDIT = """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: tcp-443-audit
              namespace: curl
              annotations:
                portcullis.io/egress-mode: audit
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              ipAddresses:
              - 192.0.2.0/24
              ports:
              - number: 443
                protocol: tcp
            """;

    private LabWorkspace workspace;
    private ControlPlaneProcess controlPlane;
    private Pod curlPod;
    private Sidecar sidecar;

    @BeforeAll
    void startEverything() throws Exception {
        workspace = LabWorkspace.open(getClass().getSimpleName());
        controlPlane = new ControlPlaneProcess(
                        workspace.cli(), workspace.workDir().resolve("control-plane.log"))
                .awaitHealthy();
        curlPod = new Pod(
                "pcl-curl",
                "curl",
                "curl",
                "curl-54ccc6954c-9rlvp",
                workspace.lab().caCertificate());
        sidecar = Sidecar.start(workspace.cli(), curlPod, workspace.workDir());
        workspace.cli().patchMeshConfig(Manifests.ENABLE_EGRESS_POLICY);
        // httpbin-80: httpbin.org on port 80, only paths matching /get.
        workspace.cli().apply(Manifests.ROUTE_GROUP_AND_HTTPBIN_80_WITH_MATCHES);
        awaitStatus("http://httpbin.org/get", 200);
    }

    @AfterAll
    void stopEverything() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        if (workspace != null) {
            workspace.lab().close();
        }
    }

    @Test
    @Order(1)
    void anAllowedRequestCountsAsAllowForThePolicyThatAllowsIt() {
        double before = counter("allow", POLICY, "http");
        assertThat(curlPod.curl("http://httpbin.org/get").status()).isEqualTo(200);
        awaitCounterAbove("allow", POLICY, "http", before);
    }

    @Test
    @Order(2)
    void aRouteMissIsRefusedLoggedAsJsonAndCountedAgainstTheHostsPolicyOnTheSidecarAndTheControlPlane()
            throws IOException {
        double before = counter("deny", POLICY, "http");
        double controlPlaneBefore = controlPlaneCounter("deny", POLICY, "http");
        String path = "/anything/" + UUID.randomUUID();
        assertThat(curlPod.curl("http://httpbin.org" + path).status()).isEqualTo(403);

        JsonNode line = awaitDecisionLine(l -> path.equals(text(l, "path")));
        assertThat(text(line, "identity")).isEqualTo("curl/curl");
        assertThat(text(line, "destination")).isEqualTo(NetworkLab.HTTPBIN_IP + ":80");
        assertThat(text(line, "protocol")).isEqualTo("http");
        assertThat(text(line, "host")).isEqualTo("httpbin.org");
        assertThat(text(line, "method")).isEqualTo("GET");
        assertThat(text(line, "decision")).isEqualTo("deny");
        assertThat(text(line, "policy")).isEqualTo(POLICY);
        assertThat(text(line, "reason")).contains("matches no HTTPRouteGroup match");
        assertThat(line.get("response_code").asInt()).isEqualTo(403);
        awaitControlPlaneCounterAbove("deny", POLICY, "http", controlPlaneBefore);
        awaitCounterAbove("deny", POLICY, "http", before);
    }

    @Test
    @Order(3)
    void aConnectionNoPolicyAllowsIsClosedLoggedAndCountedWithNoPolicyOnTheSidecarAndTheControlPlane()
            throws IOException {
        double before = counter("deny", "", "tcp");
        double controlPlaneBefore = controlPlaneCounter("deny", "", "tcp");
        assertThat(curlPod.curl("https://flomesh.io:443").denied()).isTrue();

        // No policy names port 443, so no TLS inspection there: the line has the address, no SNI.
        JsonNode line = awaitDecisionLine(l -> FLOMESH_443.equals(text(l, "destination")));
        assertThat(text(line, "identity")).isEqualTo("curl/curl");
        assertThat(text(line, "protocol")).isEqualTo("tcp");
        assertThat(text(line, "decision")).isEqualTo("deny");
        assertThat(line.get("policy").isNull()).as(line.toString()).isTrue();
        assertThat(text(line, "reason")).contains("no Egress policy allows this destination");
        awaitCounterAbove("deny", "", "tcp", before);
        awaitControlPlaneCounterAbove("deny", "", "tcp", controlPlaneBefore);
    }

    @Test
    @Order(4)
    void aNamespaceInAuditModeLetsARefusedRequestThroughAsWouldDeny() throws IOException {
        workspace.cli().apply(NAMESPACE_AUDIT);
        double before = counter("would_deny", POLICY, "http");
        double controlPlaneBefore = controlPlaneCounter("would_deny", POLICY, "http");
        String probe = "/anything/" + UUID.randomUUID();
        // The real httpbin answers: audit routes the request to the address dialled.
        awaitStatus("http://httpbin.org" + probe, 200);
        awaitHttpbinLogged(probe);

        JsonNode line =
                awaitDecisionLine(l -> probe.equals(text(l, "path")) && "would_deny".equals(text(l, "decision")));
        assertThat(text(line, "policy")).isEqualTo(POLICY);
        assertThat(text(line, "reason")).contains("matches no HTTPRouteGroup match");
        assertThat(line.get("response_code").asInt()).isEqualTo(200);
        awaitCounterAbove("would_deny", POLICY, "http", before);
        awaitControlPlaneCounterAbove("would_deny", POLICY, "http", controlPlaneBefore);
    }

    @Test
    @Order(5)
    void switchingTheNamespaceBackToEnforceRefusesAgain() {
        workspace.cli().apply(NAMESPACE_ENFORCE);
        awaitStatus("http://httpbin.org/anything/" + UUID.randomUUID(), 403);
        workspace.cli().apply(NAMESPACE_AUDIT);
        awaitStatus("http://httpbin.org/anything/" + UUID.randomUUID(), 200);
        // Deleting the manifest is enforcing too: no annotation means enforce.
        workspace.cli().delete("namespace", "curl", "curl");
        awaitStatus("http://httpbin.org/anything/" + UUID.randomUUID(), 403);
    }

    @Test
    @Order(6)
    void anEgressInAuditModeLetsThroughOnlyOnItsPort() {
        workspace.cli().apply(TCP_443_AUDIT);
        double before = counter("would_deny", "", "tcp");
        // flomesh.io:443 is outside the policy's range, but port 443 is audited: through, as would_deny.
        await("flomesh.io:443 let through by the audited port")
                .atMost(DEADLINE)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> curlPod.curl("https://flomesh.io:443").exitCode() == 0);
        JsonNode line = awaitDecisionLine(
                l -> FLOMESH_443.equals(text(l, "destination")) && "would_deny".equals(text(l, "decision")));
        assertThat(text(line, "protocol")).isEqualTo("tcp");
        assertThat(text(line, "reason")).contains("no Egress policy allows this destination");
        awaitCounterAbove("would_deny", "", "tcp", before);
        // Port 80 is not named by the audited Egress: still enforced.
        assertThat(curlPod.curl("http://httpbin.org/anything/" + UUID.randomUUID())
                        .status())
                .isEqualTo(403);

        workspace.cli().delete("egress", "curl", "tcp-443-audit");
        await("flomesh.io:443 refused again")
                .atMost(DEADLINE)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> curlPod.curl("https://flomesh.io:443").denied());
    }

    /**
     * The loggers' refusal test is the route's decision, not the status: at the default sample rate (0) an
     * allowed request the upstream itself answers 403 writes no line (it is counted as allow), while a refusal
     * right after it does.
     */
    @Test
    @Order(7)
    void atSampleRateZeroAnUpstreamsOwn403IsNotLoggedAsARefusalWhileARefusalIs() throws IOException {
        workspace.cli().apply(Manifests.ROUTE_GROUP_WITH_STATUS);
        awaitStatus("http://httpbin.org/status/204", 204);
        double allowedBefore = counter("allow", POLICY, "http");
        String upstream403 = "/status/403?probe=" + UUID.randomUUID();
        assertThat(curlPod.curl("http://httpbin.org" + upstream403).status()).isEqualTo(403);
        awaitHttpbinLogged(upstream403);
        awaitCounterAbove("allow", POLICY, "http", allowedBefore);

        String refused = "/anything/" + UUID.randomUUID();
        assertThat(curlPod.curl("http://httpbin.org" + refused).status()).isEqualTo(403);
        JsonNode line = awaitDecisionLine(l -> refused.equals(text(l, "path")));
        assertThat(text(line, "decision")).isEqualTo("deny");
        // Envoy writes the lines in order: the refusal's line is there, so the earlier request's would be too.
        assertThat(decisionLines())
                .as("no decision line for the upstream's own 403")
                .noneMatch(l -> upstream403.equals(text(l, "path")));
    }

    // ------------------------------------------------------------------ helpers

    private void awaitStatus(String url, int status) {
        await(url + " -> " + status)
                .atMost(DEADLINE)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> curlPod.curl(url).status() == status);
    }

    /** Waits until httpbin's access log has the request: gunicorn writes the line after it answered. */
    private void awaitHttpbinLogged(String pathAndQuery) {
        await("httpbin logs " + pathAndQuery)
                .atMost(DEADLINE)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> workspace.lab().httpbinAccessLog().contains(pathAndQuery));
    }

    /** The first JSON decision line of the sidecar's log that the predicate accepts; Envoy flushes stdout late. */
    private JsonNode awaitDecisionLine(java.util.function.Predicate<JsonNode> wanted) {
        return await("a decision line in the sidecar's log")
                .atMost(DEADLINE)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> decisionLines().stream().filter(wanted).findFirst(), Optional::isPresent)
                .orElseThrow();
    }

    private List<JsonNode> decisionLines() {
        return sidecar.logText()
                .lines()
                .filter(line -> line.startsWith("{"))
                .map(line -> {
                    try {
                        return JSON.readTree(line);
                    } catch (IOException e) {
                        throw new AssertionError("a decision line that is not JSON: " + line, e);
                    }
                })
                .toList();
    }

    private static String text(JsonNode line, String field) {
        JsonNode value = line.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private void awaitCounterAbove(String decision, String policy, String protocol, double before) {
        await(COUNTER + " decision=" + decision + " policy=" + policy + " above " + before)
                .atMost(DEADLINE)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> counter(decision, policy, protocol) > before);
    }

    private static final Pattern SAMPLE = Pattern.compile("^" + COUNTER + "\\{(.*)} (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** The counter for curl/curl with these labels on the sidecar's /stats/prometheus; 0 while absent. */
    private double counter(String decision, String policy, String protocol) {
        String text = ProcessRun.run(
                        Duration.ofSeconds(20),
                        null,
                        List.of(
                                "ip",
                                "netns",
                                "exec",
                                curlPod.netns(),
                                "curl",
                                "-sS",
                                "--max-time",
                                "4",
                                "http://127.0.0.1:15000/stats/prometheus"))
                .orFail()
                .stdout();
        for (String line : text.lines().toList()) {
            Matcher sample = SAMPLE.matcher(line);
            if (!sample.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            Matcher label = LABEL.matcher(sample.group(1));
            while (label.find()) {
                labels.put(label.group(1), label.group(2));
            }
            if (Map.of("identity", "curl/curl", "policy", policy, "decision", decision, "protocol", protocol)
                    .equals(labels)) {
                return Double.parseDouble(sample.group(2));
            }
        }
        return 0;
    }

    private static final Pattern CONTROL_PLANE_SAMPLE =
            Pattern.compile("^portcullis_egress_decisions_total\\{(.*)} (\\S+)$");

    /**
     * The control plane's count of decisions curl/curl's sidecar reported over its access log stream, from a
     * Prometheus scrape of {@code /metrics}; 0 while absent.
     */
    private double controlPlaneCounter(String decision, String policy, String protocol) throws IOException {
        for (String line : controlPlane.get("/metrics").lines().toList()) {
            Matcher sample = CONTROL_PLANE_SAMPLE.matcher(line);
            if (sample.matches()
                    && labels(sample.group(1))
                            .equals(Map.of(
                                    "identity", "curl/curl",
                                    "policy", policy,
                                    "decision", decision,
                                    "protocol", protocol))) {
                return Double.parseDouble(sample.group(2));
            }
        }
        return 0;
    }

    private void awaitControlPlaneCounterAbove(String decision, String policy, String protocol, double before) {
        await("control plane's portcullis_egress_decisions_total decision=" + decision + " policy=" + policy + " above "
                        + before)
                .atMost(DEADLINE)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> controlPlaneCounter(decision, policy, protocol) > before);
    }

    private static Map<String, String> labels(String text) {
        Map<String, String> labels = new LinkedHashMap<>();
        Matcher label = LABEL.matcher(text);
        while (label.find()) {
            labels.put(label.group(1), label.group(2));
        }
        return labels;
    }
}
