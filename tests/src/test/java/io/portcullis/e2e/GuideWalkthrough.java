package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Flomesh egress guide, step by step, against real components: the packaged control plane on one
 * config source, real Envoy sidecars in network namespaces behind iptables REDIRECT, real curl, and
 * real servers (httpbin, TLS sites, sshd, an impostor) resolved through real DNS. One step list for
 * every source: {@link EgressWalkthroughIT} drives it through the directory store ({@code portcullis
 * apply}), {@link KubernetesWalkthroughIT} through {@code kubectl} on a real API server; each adds the
 * checks only its source has.
 *
 * <p>Every change is given 5 seconds to take effect, polled; the time it took is printed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class GuideWalkthrough {

    static final Duration TAKES_EFFECT_WITHIN = Duration.ofSeconds(5);
    static final String HTTPBIN_80 = "http://httpbin.org:80/get";
    static final String HTTPBIN_443 = "https://httpbin.org:443/get";
    static final String FLOMESH_443 = "https://flomesh.io:443";
    static final String HTTPBIN_80_POLICY = "Egress curl/httpbin-80";
    static final String HTTPBIN_443_POLICY = "Egress curl/httpbin-443";
    static final String TCP_443_POLICY = "Egress curl/tcp-443";
    static final String SSH_22_POLICY = "Egress curl/ssh-22";
    /** What {@link #explainAgrees} expects as the policy of a request allowed by global passthrough. */
    static final String PASSTHROUGH = null;

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    Path workDir;
    NetworkLab lab;
    PortcullisCli cli;
    ControlPlaneProcess controlPlane;
    Pod curlPod;
    Pod otherPod;
    final List<Sidecar> sidecars = new ArrayList<>();
    private final List<String> report = new ArrayList<>();

    /** The guide's kubectl commands, against this walkthrough's source. */
    abstract GuideCommands guide();

    /** Starts the config source's side (if any) and the control plane on it, healthy. */
    abstract ControlPlaneProcess startControlPlane(LabWorkspace workspace) throws Exception;

    /** Stops what {@link #startControlPlane} started besides the control plane. */
    void stopSource() {}

    /**
     * Step 2's extra checks, with httpbin-80 applied and working: what this source does with an invalid
     * Egress beside it, and anything else only this source has.
     */
    abstract void step2_sourceSpecifics() throws Exception;

    /**
     * The one place a pod's sidecar is started (the e2e harness's {@link Sidecar}, set up as an injector
     * would); a walkthrough that runs the injected Pod spec instead overrides only this.
     */
    Sidecar startSidecar(Pod pod) throws Exception {
        return Sidecar.start(cli, pod, workDir);
    }

    @BeforeAll
    void startEverything() throws Exception {
        LabWorkspace workspace = LabWorkspace.open(getClass().getSimpleName());
        workDir = workspace.workDir();
        lab = workspace.lab();
        cli = workspace.cli();
        controlPlane = startControlPlane(workspace);

        curlPod = new Pod("pcl-curl", "curl", "curl", "curl-54ccc6954c-9rlvp", lab.caCertificate());
        otherPod = new Pod("pcl-other", "curl", "sleep", "sleep-7b9c5d6f4-x2k4q", lab.caCertificate());
        for (Pod pod : List.of(curlPod, otherPod)) {
            sidecars.add(startSidecar(pod));
        }
        awaitSidecarsInSync();
        say("control plane, 2 sidecars and the lab are up in " + workDir);
    }

    @AfterAll
    void stopEverything() {
        System.out.println("\n==== walkthrough ====");
        report.forEach(line -> System.out.println("  " + line));
        sidecars.forEach(Sidecar::close);
        if (controlPlane != null) {
            controlPlane.close();
        }
        stopSource();
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    @Order(1)
    void step1_egressPolicyOnPassthroughOff_httpFails() throws Exception {
        step("1. kubectl patch meshconfig: enableEgressPolicy=true, enableEgress=false");
        guide().patchMeshConfig(Manifests.ENABLE_EGRESS_POLICY);
        // Wait for the patch to take effect first: "every sidecar ACKed its identity's current version" also
        // holds before the control plane has seen the patch (the old passthrough config is current until then),
        // which a Kubernetes watch delivers a moment after kubectl returns.
        for (Pod pod : List.of(curlPod, otherPod)) {
            awaitDenied(pod, HTTPBIN_80);
        }
        awaitSidecarsInSync();
        assertHttpDenied(curlPod, HTTPBIN_80);
        assertOtherPodBlocked();
    }

    @Test
    @Order(2)
    void step2_httpEgressByHost() throws Exception {
        step("2. apply Egress httpbin-80 (http, port 80, host httpbin.org)");
        guide().apply(Manifests.HTTPBIN_80);
        awaitOk(curlPod, HTTPBIN_80, HTTPBIN_80_POLICY);
        Pod.CurlResult echoed = curlPod.curl(HTTPBIN_80);
        assertThat(echoed.body())
                .as("headers httpbin.org received")
                .contains("\"Host\": \"httpbin.org")
                .doesNotContainIgnoringCase("x-envoy");
        assertOtherPodBlocked();
        step2_sourceSpecifics();
        step("2. delete Egress httpbin-80, while a keep-alive connection made under it stays open");
        Path go = workDir.resolve("keepalive.go");
        Path output = workDir.resolve("keepalive.out");
        Process client = curlPod.keepAliveClient("httpbin.org", "/get", go, output);
        await("first request on the kept-alive connection")
                .atMost(Duration.ofSeconds(10))
                .until(() -> Files.exists(output) && Files.readString(output).contains("first"));
        assertThat(Files.readString(output)).contains("first 200");
        guide().delete("egress", "curl", "httpbin-80");
        awaitDenied(curlPod, HTTPBIN_80);
        assertHttpDenied(curlPod, HTTPBIN_80);
        awaitSidecarsInSync();
        Files.createFile(go);
        assertThat(client.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String second = Files.readString(output);
        say("   existing connection after the delete: "
                + second.replace('\n', ' ').trim());
        assertThat(second)
                .as("a request on a connection opened before the delete is refused too")
                .containsAnyOf("second 403", "second closed");
    }

    @Test
    @Order(3)
    void step3_httpsEgressBySni() throws Exception {
        assertDenied(curlPod, HTTPBIN_443, "https before the policy");
        step("3. apply Egress httpbin-443 (https, port 443, SNI httpbin.org)");
        guide().apply(Manifests.HTTPBIN_443);
        awaitOk(curlPod, HTTPBIN_443, HTTPBIN_443_POLICY);
        assertDenied(curlPod, FLOMESH_443, "another SNI on 443 stays denied");
        assertOtherPodBlocked();
        step("3. delete Egress httpbin-443");
        guide().delete("egress", "curl", "httpbin-443");
        awaitDenied(curlPod, HTTPBIN_443);
    }

    @Test
    @Order(4)
    void step4_tcpEgressByPort() throws Exception {
        assertDenied(curlPod, FLOMESH_443, "flomesh.io before the policy");
        step("4. apply Egress tcp-443 (tcp, port 443, any host)");
        guide().apply(Manifests.TCP_443);
        awaitOk(curlPod, FLOMESH_443, TCP_443_POLICY);
        assertOk(curlPod, HTTPBIN_443, TCP_443_POLICY, "any host on 443");
        assertOtherPodBlocked();
        step("4. delete Egress tcp-443");
        guide().delete("egress", "curl", "tcp-443");
        awaitDenied(curlPod, FLOMESH_443);
    }

    @Test
    @Order(5)
    void step5_httpRouteMatches() throws Exception {
        String status = "http://httpbin.org:80/status/200";
        assertHttpDenied(curlPod, status);
        step("5. apply HTTPRouteGroup egress-http-route (/get) and Egress httpbin-80 with matches");
        guide().apply(Manifests.ROUTE_GROUP_AND_HTTPBIN_80_WITH_MATCHES);
        awaitOk(curlPod, HTTPBIN_80, HTTPBIN_80_POLICY);
        Pod.CurlResult forbidden = curlPod.curl(status);
        say("   " + forbidden);
        assertThat(forbidden.status())
                .as("/status/200 is not in the route group")
                .isEqualTo(403);
        assertHttpDenied(curlPod, status);
        assertOtherPodBlocked();
        step("5. update HTTPRouteGroup egress-http-route: add /status.*");
        guide().apply(Manifests.ROUTE_GROUP_WITH_STATUS);
        awaitOk(curlPod, status, HTTPBIN_80_POLICY);
        guide().delete("egress", "curl", "httpbin-80");
        guide().delete("httproutegroup", "curl", "egress-http-route");
        awaitDenied(curlPod, HTTPBIN_80);
    }

    @Test
    @Order(6)
    void step6_serverFirstTcp() throws Exception {
        Pod.Banner none = curlPod.banner(NetworkLab.SSH_IP, 22);
        say("   without a policy: banner '" + none.text() + "'");
        assertThat(none.isSsh()).as("no SSH banner without a policy").isFalse();
        explainAgrees(curlPod, false, null, SSH_TARGET);
        step("6. apply Egress ssh-22 (tcp-server-first, port 22)");
        guide().apply(Manifests.SSH_SERVER_FIRST);
        Pod.Banner banner = within("SSH banner through the sidecar", () -> {
            Pod.Banner b = curlPod.banner(NetworkLab.SSH_IP, 22);
            return b.isSsh() ? b : null;
        });
        say("   banner '" + banner.text() + "' after " + banner.seconds() + " s");
        assertThat(banner.seconds())
                .as("a server-first banner must not wait for protocol detection")
                .isLessThan(1.0);
        explainAgrees(curlPod, true, SSH_22_POLICY, SSH_TARGET);
        assertThat(otherPod.banner(NetworkLab.SSH_IP, 22).isSsh())
                .as("other ServiceAccount gets no banner")
                .isFalse();
        explainAgrees(otherPod, false, null, SSH_TARGET);
        guide().delete("egress", "curl", "ssh-22");
        within("SSH blocked again", () -> curlPod.banner(NetworkLab.SSH_IP, 22).isSsh() ? null : true);
        explainAgrees(curlPod, false, null, SSH_TARGET);
    }

    @Test
    @Order(7)
    void step7_noHostOrSniSpoofing() throws Exception {
        step("7. apply httpbin-80 and httpbin-443, then dial the impostor's IP with Host/SNI httpbin.org");
        guide().apply(Manifests.HTTPBIN_80 + "---\n" + Manifests.HTTPBIN_443);
        awaitOk(curlPod, HTTPBIN_80, HTTPBIN_80_POLICY);
        awaitOk(curlPod, HTTPBIN_443, HTTPBIN_443_POLICY);
        String impostorBefore = lab.impostorLog();
        List<Pod.CurlResult> spoofs = List.of(
                curlPod.curl("http://httpbin.org/get", "--resolve", "httpbin.org:80:" + NetworkLab.IMPOSTOR_IP),
                curlPod.curl("https://httpbin.org/get", "--resolve", "httpbin.org:443:" + NetworkLab.IMPOSTOR_IP),
                curlPod.curl("http://" + NetworkLab.IMPOSTOR_IP + "/get", "-H", "Host: httpbin.org"));
        for (Pod.CurlResult spoof : spoofs) {
            say("   " + spoof);
            assertThat(spoof.body())
                    .as(spoof.url() + " answered by the impostor")
                    .doesNotContain("impostor");
            assertThat(spoof.ok())
                    .as(spoof + ": served by the real httpbin.org, as DNS says")
                    .isTrue();
            assertThat(spoof.body()).contains("\"headers\"");
        }
        // The same three requests, as explain is told them: the dialled address does not decide, the name does.
        explainAgrees(curlPod, true, HTTPBIN_80_POLICY, "http://httpbin.org/get", "--ip", NetworkLab.IMPOSTOR_IP);
        explainAgrees(curlPod, true, HTTPBIN_443_POLICY, "https://httpbin.org/get", "--ip", NetworkLab.IMPOSTOR_IP);
        explainAgrees(
                curlPod,
                true,
                HTTPBIN_80_POLICY,
                "http://" + NetworkLab.IMPOSTOR_IP + "/get",
                "--header",
                "Host=httpbin.org");
        Pod.CurlResult https =
                curlPod.curl("https://" + NetworkLab.IMPOSTOR_IP + "/get", "-k", "-H", "Host: httpbin.org");
        say("   https to the impostor's IP without SNI: " + https);
        assertThat(https.denied()).as("TLS without an allowed SNI").isTrue();
        explainAgrees(curlPod, false, null, "https://" + NetworkLab.IMPOSTOR_IP + "/get");
        assertThat(lab.impostorLog()).as("no connection may reach the impostor").isEqualTo(impostorBefore);
        assertOtherPodBlocked();
        guide().delete("egress", "curl", "httpbin-80");
        guide().delete("egress", "curl", "httpbin-443");
        awaitDenied(curlPod, HTTPBIN_443);
    }

    @Test
    @Order(8)
    void step8_passthrough() throws Exception {
        step("8. kubectl patch meshconfig: enableEgress=true (global passthrough)");
        guide().patchMeshConfig(Manifests.ENABLE_PASSTHROUGH);
        for (Pod pod : List.of(curlPod, otherPod)) {
            awaitOk(pod, HTTPBIN_80, PASSTHROUGH);
            awaitOk(pod, HTTPBIN_443, PASSTHROUGH);
            awaitOk(pod, FLOMESH_443, PASSTHROUGH);
            assertThat(pod.banner(NetworkLab.SSH_IP, 22).isSsh())
                    .as(pod.identity() + " reaches sshd")
                    .isTrue();
            explainAgrees(pod, true, PASSTHROUGH, SSH_TARGET);
        }
        step("8. kubectl patch meshconfig: enableEgress=false");
        guide().patchMeshConfig(Manifests.ENABLE_EGRESS_POLICY);
        for (Pod pod : List.of(curlPod, otherPod)) {
            awaitDenied(pod, HTTPBIN_80);
            assertHttpDenied(pod, HTTPBIN_80);
            assertDenied(pod, HTTPBIN_443, "https after passthrough is off");
            assertDenied(pod, FLOMESH_443, "flomesh.io after passthrough is off");
            assertThat(pod.banner(NetworkLab.SSH_IP, 22).isSsh()).isFalse();
            explainAgrees(pod, false, null, SSH_TARGET);
        }
    }

    @Test
    @Order(9)
    void step9_debugEndpointShowsSidecarsAndNoRejections() throws Exception {
        step("9. debug endpoint: both sidecars, their identity and ACKed version, no NACK");
        awaitSidecarsInSync();
        JsonNode sidecarsJson = controlPlane.sidecars();
        say("   " + sidecarsJson.toString().replaceAll("\\s+", " "));
        List<String> identities = new ArrayList<>();
        sidecarsJson.forEach(s -> identities.add(s.get("identity").asText()));
        assertThat(identities).containsExactlyInAnyOrder("curl/curl", "curl/sleep");
        assertThat(controlPlane.logText()).as("Envoy rejected config (NACK)").doesNotContain("REJECTED");
        JsonNode xds = controlPlane.xds("curl/curl");
        assertThat(xds.get("listeners").get(0).get("name").asText()).isEqualTo("egress_outbound");
        for (Sidecar sidecar : sidecars) {
            // One JSON decision line per refusal (docs/observability.md#decision-logs).
            assertThat(sidecar.logText()).contains("\"decision\":\"deny\"");
        }
    }

    /**
     * The invalid Egress ({@link Manifests#BAD_EGRESS}) was stored beside httpbin-80: it is reported with
     * its fields on /debug/problems and in the log, and skipped; httpbin-80 keeps working. Deletes it.
     */
    void assertInvalidEgressReportedAndSkipped() throws IOException {
        JsonNode problems = within("the invalid Egress is listed on /debug/problems", () -> {
            JsonNode all = controlPlane.problems().get("policies");
            return all.toString().contains("Egress curl/bad-protocol") ? all : null;
        });
        say("   " + problems.toString());
        assertThat(problems.toString()).contains("spec.ports[0].protocol").contains("spec.ipAddresses[0]");
        assertThat(controlPlane.logText()).contains("Egress curl/bad-protocol spec.ports[0].protocol");
        assertOk(curlPod, HTTPBIN_80, HTTPBIN_80_POLICY, "the valid policy still works");
        assertDenied(curlPod, FLOMESH_443, "nothing of the invalid policy is enforced");
        guide().delete("egress", "curl", "bad-protocol");
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The problems of the config directory's files, as /debug/problems lists them. */
    String sourceProblems() throws IOException {
        return controlPlane.problems().get("source").toString();
    }

    /**
     * curl gets through once the change took effect, and {@code portcullis explain} agrees, naming
     * {@code policy} ({@link #PASSTHROUGH}: none).
     */
    void awaitOk(Pod pod, String url, String policy) {
        Pod.CurlResult result = within(pod.identity() + " " + url + " -> 200", () -> {
            Pod.CurlResult r = pod.curl(url);
            return r.ok() ? r : null;
        });
        say("   " + pod.identity() + ": " + result);
        explainAgrees(pod, true, policy, url);
    }

    void awaitDenied(Pod pod, String url) {
        Pod.CurlResult result = within(pod.identity() + " " + url + " denied", () -> {
            Pod.CurlResult r = pod.curl(url);
            return r.denied() ? r : null;
        });
        say("   " + pod.identity() + ": " + result);
        explainAgrees(pod, false, null, url);
    }

    void assertOk(Pod pod, String url, String policy, String what) {
        Pod.CurlResult result = pod.curl(url);
        assertThat(result.ok()).as(what + ": " + result).isTrue();
        explainAgrees(pod, true, policy, url);
    }

    void assertDenied(Pod pod, String url, String what) {
        Pod.CurlResult result = pod.curl(url);
        assertThat(result.denied()).as(what + ": " + result).isTrue();
        explainAgrees(pod, false, null, url);
    }

    /** The raw TCP target of the SSH steps, as {@code portcullis explain} takes it. */
    static final String SSH_TARGET = NetworkLab.SSH_IP + ":22";

    /**
     * The real {@code portcullis explain --server}, asked the control plane's debug endpoint (the model the
     * sidecars are served), agrees with what the traffic just showed: allowed or denied, and when allowed
     * the policy it names is {@code policy} ({@link #PASSTHROUGH}: no policy at all).
     */
    void explainAgrees(Pod pod, boolean allowed, String policy, String target, String... options) {
        ProcessRun run = cli.explain(controlPlane.debugUrl(), pod.identity(), target, options);
        JsonNode json;
        try {
            json = JSON.readTree(run.stdout());
        } catch (IOException e) {
            throw new AssertionError("explain printed no JSON: " + run, e);
        }
        String verdict = json.path("verdict").asText();
        List<String> policies = new ArrayList<>();
        json.path("policies").forEach(p -> policies.add(p.asText()));
        say("   explain " + pod.identity() + " " + target + (options.length == 0 ? "" : " " + String.join(" ", options))
                + ": " + verdict + (policies.isEmpty() ? "" : " by " + policies)
                + (json.hasNonNull("reason") ? " (" + json.get("reason").asText() + ")" : ""));
        assertThat(verdict).as("explain agrees with the traffic: %s", run).isEqualTo(allowed ? "allowed" : "denied");
        assertThat(run.exitCode()).as("explain's exit code: %s", run).isEqualTo(allowed ? 0 : 1);
        if (allowed) {
            assertThat(policies)
                    .as("the policy explain names for %s", target)
                    .isEqualTo(policy == null ? List.of() : List.of(policy));
        }
    }

    /**
     * Denied, and provably before the request reached httpbin.org: a unique probe never shows in its
     * access log, while an allowed probe does (so the log is really being read).
     */
    private void assertHttpDenied(Pod pod, String url) throws IOException {
        String probe = "probe=" + UUID.randomUUID();
        Pod.CurlResult result = pod.curl(url + (url.contains("?") ? "&" : "?") + probe);
        say("   " + pod.identity() + ": " + result);
        assertThat(result.denied()).as(result.toString()).isTrue();
        assertThat(lab.httpbinAccessLog())
                .as("denied request reached httpbin.org")
                .doesNotContain(probe);
        explainAgrees(pod, false, null, url);
    }

    private void assertOtherPodBlocked() throws IOException {
        assertHttpDenied(otherPod, HTTPBIN_80);
        assertDenied(otherPod, HTTPBIN_443, otherPod.identity() + " " + HTTPBIN_443);
        assertDenied(otherPod, FLOMESH_443, otherPod.identity() + " " + FLOMESH_443);
    }

    void awaitSidecarsInSync() {
        await().alias("every sidecar ACKed its identity's current version")
                .conditionEvaluationListener(condition -> {
                    if (condition.getRemainingTimeInMS() <= 0) {
                        try {
                            System.out.println("sidecars: " + controlPlane.sidecars());
                        } catch (IOException e) {
                            System.out.println("sidecars: " + e);
                        }
                    }
                })
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    assertThat(sidecars).allMatch(Sidecar::alive, "sidecar running");
                    JsonNode list = controlPlane.sidecars();
                    if (list.size() != sidecars.size()) {
                        return false;
                    }
                    for (JsonNode sidecar : list) {
                        if (!sidecar.get("upToDate").asBoolean()) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    /** Polls until the check yields a value; fails after {@link #TAKES_EFFECT_WITHIN}. Reports how long it took. */
    <T> T within(String what, Callable<T> check) {
        long start = System.nanoTime();
        List<T> holder = new ArrayList<>();
        try {
            await(what)
                    .atMost(TAKES_EFFECT_WITHIN)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        T value = check.call();
                        if (value != null) {
                            holder.add(value);
                        }
                        return value != null;
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            dumpLogs();
            throw e;
        }
        say(String.format("   took effect in %d ms: %s", (System.nanoTime() - start) / 1_000_000, what));
        return holder.get(0);
    }

    private void dumpLogs() {
        System.out.println("---- control plane log ----\n" + tail(controlPlane.logText()));
        for (Sidecar sidecar : sidecars) {
            System.out.println("---- " + sidecar.log + " ----\n" + tail(sidecar.logText()));
        }
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    void step(String text) {
        say(text);
    }

    void say(String text) {
        System.out.println("[walkthrough] " + text);
        report.add(text);
    }
}
