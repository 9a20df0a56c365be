package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.testfixtures.EgressManifest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A sidecar whose Envoy rejects (NACKs) the config built from a policy, with real Envoy, curl and httpbin.
 * The sidecar's bootstrap caps RE2 programs at 100 (Envoy's {@code re2.max_program_size.error_level}; set
 * explicitly, as a sidecar made by an older bootstrap would be), so a route regex bigger than that is
 * rejected by this Envoy while the control plane accepts it. Envoy then keeps its previous config: without
 * failing closed, the policy just narrowed would stay wide open.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NackFailsClosedIT {

    /** RE2 program size 211 (Latin-1 and UTF-8): over this sidecar's 100, under the 1024 Portcullis accepts. */
    private static final String BIG_REGEX = "/get(/[a-zA-Z0-9_.-]{1,40})?";

    private static final Duration TAKES_EFFECT_WITHIN = Duration.ofSeconds(10);
    private static final String GET = "http://httpbin.org/get";
    private static final String IP = "http://httpbin.org/ip";
    private static final String FLOMESH = "https://flomesh.io:443";

    private Path workDir;
    private NetworkLab lab;
    private PortcullisCli cli;
    private ControlPlaneProcess controlPlane;
    private Pod curlPod;
    private Sidecar sidecar;

    @BeforeAll
    void start() throws Exception {
        LabWorkspace workspace = LabWorkspace.open("nack");
        workDir = workspace.workDir();
        lab = workspace.lab();
        cli = workspace.cli();
        controlPlane = new ControlPlaneProcess(cli, workDir.resolve("control-plane.log")).awaitHealthy();
        curlPod = new Pod("pcl-curl", "curl", "curl", "curl-54ccc6954c-9rlvp", lab.caCertificate());
        sidecar = Sidecar.start(cli, curlPod, workDir, Map.of("re2.max_program_size.error_level", 100));
    }

    @AfterAll
    void stop() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void aNarrowingTheSidecarRejectsDropsThePolicyInsteadOfLeavingItOpenAndAFixTriesItAgain() throws Exception {
        cli.apply(egress("httpbin-80", "httpbin.org", 80, "http", null) + "---\n"
                + egress("flomesh-443", "flomesh.io", 443, "https", null));
        awaitStatus(GET, 200);
        awaitStatus(IP, 200);
        awaitStatus(FLOMESH, 200);
        awaitRunsServedVersion();

        // Narrow: httpbin.org only for GET /get..., with a regex this sidecar's Envoy refuses.
        cli.apply(routeGroup(BIG_REGEX) + "---\n" + egress("httpbin-80", "httpbin.org", 80, "http", "get-only"));
        awaitDenied(IP);
        awaitRunsServedVersion();
        assertDeniedBeforeHttpbin(IP);
        assertDeniedBeforeHttpbin(GET);
        assertThat(curlPod.curl(FLOMESH).ok())
                .as("the identity's other policy keeps working")
                .isTrue();

        JsonNode rejection = within("/debug/problems names the quarantined policy with Envoy's message", () -> {
            for (JsonNode p : controlPlane.problems().path("rejectedByEnvoy")) {
                if (p.get("resource").asText().equals("Egress curl/httpbin-80")) {
                    return p;
                }
            }
            return null;
        });
        System.out.println("[nack] " + rejection);
        assertThat(rejection.get("identity").asText()).isEqualTo("curl/curl");
        assertThat(rejection.get("envoyMessage").asText()).containsIgnoringCase("program size");
        assertThat(rejection.get("fix").asText()).startsWith("Envoy rejected the config built from this policy");
        assertThat(controlPlane.logText())
                .containsPattern("ERROR .*curl/curl REJECTED RouteConfiguration version \\w+; "
                        + "quarantined for curl/curl .*Egress curl/httpbin-80.*program size");

        long nacks = nacks();
        await("NACKs stay put: no resend loop")
                .during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> nacks() == nacks);
        assertThat(nacks)
                .as("Envoy rejected the narrowed config once (a handful at most), not in a loop")
                .isBetween(1L, 3L);
        assertThat(envoyLoggedRejections()).as("rejections in Envoy's log").isBetween(1L, 3L);

        // Fix the policy: its content changes, so it is tried again, and this time Envoy takes it.
        cli.apply(routeGroup("/get") + "---\n" + egress("httpbin-80", "httpbin.org", 80, "http", "get-only"));
        awaitStatus(GET, 200);
        assertThat(curlPod.curl(IP).status())
                .as("narrowed now: /ip is not a matching path")
                .isEqualTo(403);
        assertThat(controlPlane.problems().get("rejectedByEnvoy")).isEmpty();
        awaitRunsServedVersion();
        assertThat(curlPod.curl(FLOMESH).ok()).isTrue();
        assertThat(nacks()).as("no NACK of the fixed policy").isEqualTo(nacks);
        assertThat(envoyLoggedRejections()).isBetween(1L, 3L);
    }

    private void awaitStatus(String url, int status) {
        within(url + " -> " + status, () -> curlPod.curl(url).status() == status ? true : null);
    }

    private void awaitDenied(String url) {
        within(url + " denied", () -> curlPod.curl(url).denied() ? true : null);
    }

    /** Denied by the sidecar: httpbin.org never saw the request. */
    private void assertDeniedBeforeHttpbin(String url) throws IOException {
        String probe = "probe=" + UUID.randomUUID();
        Pod.CurlResult result = curlPod.curl(url + "?" + probe);
        assertThat(result.denied()).as(result.toString()).isTrue();
        assertThat(result.status()).as(result.toString()).isNotEqualTo(200);
        assertThat(lab.httpbinAccessLog())
                .as("denied request reached httpbin.org")
                .doesNotContain(probe);
    }

    /** The sidecar ACKed the version its identity is served: Envoy runs exactly what /debug/xds shows. */
    private void awaitRunsServedVersion() {
        within("the sidecar runs the served version", () -> {
            JsonNode list = controlPlane.sidecars();
            return (list.size() == 1 && list.get(0).get("upToDate").asBoolean()) ? true : null;
        });
    }

    /** NACKs the control plane received from the sidecar, every type. */
    private long nacks() throws IOException {
        long total = 0;
        for (JsonNode sidecar : controlPlane.sidecars()) {
            for (JsonNode rejected : sidecar.path("rejected")) {
                total += rejected.get("count").asLong();
            }
        }
        return total;
    }

    /**
     * Rejections as Envoy logs them ("gRPC config for ... rejected"). Its update_rejected stats do not do:
     * the RDS subscription that rejected goes away with the policy, and its counters with it.
     */
    private long envoyLoggedRejections() {
        return sidecar.logText()
                .lines()
                .filter(line -> line.contains("gRPC config for") && line.contains(" rejected: "))
                .count();
    }

    private <T> T within(String what, java.util.concurrent.Callable<T> check) {
        long start = System.nanoTime();
        java.util.concurrent.atomic.AtomicReference<T> value = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            await(what)
                    .atMost(TAKES_EFFECT_WITHIN)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        assertThat(sidecar.alive()).as("sidecar running").isTrue();
                        value.set(check.call());
                        return value.get() != null;
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            System.out.println("---- control plane log ----\n" + controlPlane.logText());
            System.out.println("---- envoy log ----\n" + sidecar.logText());
            throw e;
        }
        System.out.printf("[nack] took effect in %d ms: %s%n", (System.nanoTime() - start) / 1_000_000, what);
        return value.get();
    }

    private static String egress(String name, String host, int port, String protocol, String routeGroup) {
        EgressManifest egress = EgressManifest.named(name).host(host).port(port, protocol);
        if (routeGroup != null) {
            egress.matchesRouteGroup(routeGroup);
        }
        return egress.yaml();
    }

    private static String routeGroup(String pathRegex) {
        return """
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata:
                  name: get-only
                  namespace: curl
                spec:
                  matches:
                  - name: get
                    pathRegex: "%s"
                """.formatted(pathRegex);
    }
}
