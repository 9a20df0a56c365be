package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.testfixtures.EgressManifest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What sidecars do when their control plane dies: real Envoy, the packaged control plane killed with
 * SIGKILL in the middle of traffic, real curl checking every decision while it is gone, and two control
 * planes on one config directory, a sidecar failing over from one to the other and back.
 *
 * <p>Envoy is fail-static: without a control plane it keeps enforcing the config it has, so not one
 * decision may change while none is up. When one is back (or another one is up), the sidecar must be
 * resynced within seconds; the deadline is generous (30 s) and the time it took is printed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControlPlaneFailoverIT {

    private static final Duration RESYNCED_WITHIN = Duration.ofSeconds(30);
    private static final Duration TAKES_EFFECT_WITHIN = Duration.ofSeconds(10);
    private static final int PORT_A = ControlPlaneProcess.XDS_PORT;
    private static final int PORT_B = PORT_A + 1;
    private static final String HTTPBIN_80 = "http://httpbin.org:80/get";
    private static final String HTTPBIN_443 = "https://httpbin.org:443/get";

    private static final DecisionLoop.Request ALLOWED_HTTP =
            new DecisionLoop.Request("GET http://httpbin.org/get", true, HTTPBIN_80);
    private static final DecisionLoop.Request DENIED_HOST = new DecisionLoop.Request(
            "GET http://httpbin.org/get with Host: flomesh.io", false, HTTPBIN_80, "-H", "Host: flomesh.io");
    private static final DecisionLoop.Request DENIED_HTTPS =
            new DecisionLoop.Request("GET https://httpbin.org/get", false, HTTPBIN_443);
    private static final DecisionLoop.Request ALLOWED_HTTPS =
            new DecisionLoop.Request("GET https://httpbin.org/get", true, HTTPBIN_443);

    private Path workDir;
    private NetworkLab lab;
    private PortcullisCli cli;
    private ControlPlaneProcess a;
    private ControlPlaneProcess b;
    private Pod curlPod;
    private Pod otherPod;
    private final List<Sidecar> sidecars = new ArrayList<>();
    private final List<ControlPlaneProcess> everyControlPlane = new ArrayList<>();
    private final List<String> report = new ArrayList<>();
    private int restarts;

    @BeforeAll
    void startLabControlPlaneAndCurlSidecar() throws Exception {
        LabWorkspace workspace = LabWorkspace.open("failover");
        workDir = workspace.workDir();
        lab = workspace.lab();
        cli = workspace.cli();
        a = startControlPlane("a", PORT_A);
        cli.patchMeshConfig(Manifests.ENABLE_EGRESS_POLICY);
        // The guide's Egress: curl/curl may reach httpbin.org on port 80 over HTTP, and nothing else.
        cli.apply(Manifests.HTTPBIN_80);

        curlPod = new Pod("pcl-curl", "curl", "curl", "curl-54ccc6954c-9rlvp", lab.caCertificate());
        otherPod = new Pod("pcl-other", "curl", "sleep", "sleep-7b9c5d6f4-x2k4q", lab.caCertificate());
        sidecars.add(Sidecar.start(cli, curlPod, workDir));
        awaitUpToDate(curlPod, a, Duration.ofSeconds(60));
        awaitCurl(curlPod, HTTPBIN_80, true);
        say("control plane A on :" + PORT_A + ", curl's sidecar and the lab are up in " + workDir);
    }

    @AfterAll
    void stopEverything() {
        System.out.println("\n==== control-plane failover ====");
        report.forEach(line -> System.out.println("  " + line));
        sidecars.forEach(Sidecar::close);
        everyControlPlane.forEach(ControlPlaneProcess::close);
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    @Order(1)
    void aSidecarLosesNoDecisionWhileItsControlPlaneIsSigkilledAndIsResyncedWhenItIsBack() throws Exception {
        say("1. SIGKILL the only control plane during traffic, then restart it");
        DecisionLoop loop = new DecisionLoop(curlPod, List.of(ALLOWED_HTTP, DENIED_HOST, DENIED_HTTPS), "A up");
        try (loop) {
            awaitRequests(loop, "A up", 6);

            a.kill();
            loop.enter("A SIGKILLed");
            awaitRequests(loop, "A SIGKILLed", 15);

            long restart = System.nanoTime();
            a = startControlPlane("a", PORT_A);
            loop.enter("A restarted");
            long healthy = System.nanoTime();
            awaitUpToDate(curlPod, a, RESYNCED_WITHIN);
            long synced = System.nanoTime();
            say(String.format(
                    "   curl's sidecar resynced with the restarted A %d ms after it was started"
                            + " (%d ms after it answered /healthz)",
                    millis(restart, synced), millis(healthy, synced)));
            awaitRequests(loop, "A restarted", 6);
        }
        assertNoDecisionLost(loop);

        say("1. a policy change made after the restart takes effect");
        cli.apply(Manifests.HTTPBIN_443);
        awaitCurl(curlPod, HTTPBIN_443, true);
        awaitUpToDate(curlPod, a, RESYNCED_WITHIN);
    }

    @Test
    @Order(2)
    void aSidecarListingTwoControlPlanesFailsOverToTheSurvivorAndBack() throws Exception {
        say("2. a second control plane B on :" + PORT_B + ", on the same config directory");
        b = startControlPlane("b", PORT_B);
        // curl/sleep may reach httpbin.org:80 (HTTP); 443 is not allowed yet.
        cli.apply(egress("sleep-httpbin-80", 80, "http"));
        awaitSameVersions(List.of(curlPod, otherPod));

        sidecars.add(Sidecar.start(cli, otherPod, workDir, List.of(a, b)));
        ControlPlaneProcess first = awaitConnected(otherPod, Duration.ofSeconds(60));
        awaitCurl(otherPod, HTTPBIN_80, true);
        ControlPlaneProcess second = first == a ? b : a;
        say("   sleep's sidecar lists A and B, and connected to " + name(first));

        ControlPlaneProcess survivor = failOver(first, second, List.of(ALLOWED_HTTP, DENIED_HOST, DENIED_HTTPS));
        say("2. a policy change made while only " + name(survivor)
                + " is up: allow https://httpbin.org for curl/sleep");
        cli.apply(egress("sleep-httpbin-443", 443, "https"));
        awaitCurl(otherPod, HTTPBIN_443, true);
        awaitUpToDate(otherPod, survivor, RESYNCED_WITHIN);

        say("2. restart " + name(first) + ", then SIGKILL " + name(survivor) + ": the sidecar goes back");
        ControlPlaneProcess restarted = startControlPlane(first == a ? "a" : "b", first.xdsPort);
        if (first == a) {
            a = restarted;
        } else {
            b = restarted;
        }
        awaitSameVersions(List.of(curlPod, otherPod));
        ControlPlaneProcess last = failOver(survivor, restarted, List.of(ALLOWED_HTTP, ALLOWED_HTTPS, DENIED_HOST));
        say("2. a policy change made while only " + name(last) + " is up: delete the https Egress again");
        cli.delete("egress", "curl", "sleep-httpbin-443");
        awaitCurl(otherPod, HTTPBIN_443, false);
        awaitUpToDate(otherPod, last, RESYNCED_WITHIN);
    }

    /**
     * SIGKILLs the control plane {@link #otherPod}'s sidecar is connected to, with traffic flowing, and
     * waits until the survivor has it up to date. Returns the survivor.
     */
    private ControlPlaneProcess failOver(
            ControlPlaneProcess connected, ControlPlaneProcess survivor, List<DecisionLoop.Request> requests)
            throws Exception {
        assertThat(connectedTo(otherPod)).as("connected before the kill").containsExactly(connected);
        String up = name(connected) + " serving, " + name(survivor) + " up";
        String killed = name(connected) + " SIGKILLed, " + name(survivor) + " up";
        DecisionLoop loop = new DecisionLoop(otherPod, requests, up);
        try (loop) {
            awaitRequests(loop, up, 6);
            long kill = System.nanoTime();
            connected.kill();
            loop.enter(killed);
            awaitUpToDate(otherPod, survivor, RESYNCED_WITHIN);
            say(String.format(
                    "   sleep's sidecar failed over to %s and is up to date %d ms after %s was SIGKILLed",
                    name(survivor), millis(kill, System.nanoTime()), name(connected)));
            awaitRequests(loop, killed, 9);
        }
        assertNoDecisionLost(loop);
        return survivor;
    }

    private void assertNoDecisionLost(DecisionLoop loop) throws IOException {
        say("   decisions per phase:\n" + loop.report().stripTrailing());
        assertThat(loop.wrongDecisions())
                .as("every allowed request passes and every denied one is refused")
                .isEmpty();
        String accessLog = lab.httpbinAccessLog();
        assertThat(accessLog)
                .as("allowed requests reached httpbin.org (so its log is read)")
                .contains(loop.allowedProbe());
        assertThat(accessLog).as("a denied request reached httpbin.org").doesNotContain(loop.deniedProbe());
    }

    private ControlPlaneProcess startControlPlane(String name, int xdsPort) throws IOException {
        restarts++;
        ControlPlaneProcess controlPlane = new ControlPlaneProcess(
                cli, workDir.resolve("control-plane-" + name + "-" + restarts + ".log"), xdsPort);
        everyControlPlane.add(controlPlane);
        return controlPlane.awaitHealthy();
    }

    /** Both control planes serve each identity the same version and the same resources. */
    private void awaitSameVersions(List<Pod> pods) {
        await("A and B serve the same versions")
                .atMost(TAKES_EFFECT_WITHIN)
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> {
                    for (Pod pod : pods) {
                        JsonNode fromA = a.xds(pod.identity());
                        JsonNode fromB = b.xds(pod.identity());
                        assertThat(fromB.get("version")).as(pod.identity()).isEqualTo(fromA.get("version"));
                        for (String part : List.of("listeners", "clusters", "routes")) {
                            assertThat(fromB.get(part))
                                    .as(pod.identity() + " " + part)
                                    .isEqualTo(fromA.get(part));
                        }
                    }
                });
        for (Pod pod : pods) {
            try {
                say("   A and B both serve " + pod.identity() + " version "
                        + a.xds(pod.identity()).get("version").asText());
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** The sidecar is connected to this control plane and has ACKed (or runs) its identity's current version. */
    private void awaitUpToDate(Pod pod, ControlPlaneProcess controlPlane, Duration deadline) {
        try {
            await(pod.sidecarNodeId() + " up to date on " + name(controlPlane))
                    .atMost(deadline)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        assertThat(sidecars).allMatch(Sidecar::alive, "sidecar running");
                        for (JsonNode sidecar : controlPlane.sidecars()) {
                            if (sidecar.get("nodeId").asText().equals(pod.sidecarNodeId())
                                    && sidecar.get("upToDate").asBoolean()) {
                                return true;
                            }
                        }
                        return false;
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            dumpLogs();
            throw e;
        }
    }

    /** Waits until exactly one living control plane lists the pod's sidecar, up to date, and returns it. */
    private ControlPlaneProcess awaitConnected(Pod pod, Duration deadline) throws IOException {
        await(pod.sidecarNodeId() + " connected")
                .atMost(deadline)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> connectedTo(pod).size() == 1);
        ControlPlaneProcess controlPlane = connectedTo(pod).get(0);
        awaitUpToDate(pod, controlPlane, deadline);
        return controlPlane;
    }

    private List<ControlPlaneProcess> connectedTo(Pod pod) throws IOException {
        List<ControlPlaneProcess> connected = new ArrayList<>();
        for (ControlPlaneProcess controlPlane : List.of(a, b)) {
            if (controlPlane.alive() && controlPlane.sidecars().toString().contains(pod.sidecarNodeId())) {
                connected.add(controlPlane);
            }
        }
        return connected;
    }

    private void awaitCurl(Pod pod, String url, boolean allowed) {
        long start = System.nanoTime();
        Pod.CurlResult result;
        try {
            result = await(pod.identity() + " " + url + (allowed ? " allowed" : " denied"))
                    .atMost(TAKES_EFFECT_WITHIN)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> pod.curl(url), r -> allowed ? r.ok() : r.denied());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            dumpLogs();
            throw e;
        }
        say(String.format("   %s: %s (within %d ms)", pod.identity(), result, millis(start, System.nanoTime())));
    }

    private static void awaitRequests(DecisionLoop loop, String phase, int atLeast) {
        await(atLeast + " requests checked while " + phase)
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> loop.count(phase) >= atLeast);
    }

    private String name(ControlPlaneProcess controlPlane) {
        return (controlPlane.xdsPort == PORT_A ? "A" : "B") + " (:" + controlPlane.xdsPort + ")";
    }

    private static long millis(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1_000_000;
    }

    private static String egress(String name, int port, String protocol) {
        return EgressManifest.named(name)
                .fromServiceAccount("sleep", "curl")
                .host("httpbin.org")
                .port(port, protocol)
                .yaml();
    }

    private void dumpLogs() {
        for (ControlPlaneProcess controlPlane : everyControlPlane) {
            System.out.println("---- " + controlPlane.log + " ----\n" + tail(controlPlane.logText()));
        }
        for (Sidecar sidecar : sidecars) {
            System.out.println("---- " + sidecar.log + " ----\n" + tail(sidecar.logText()));
        }
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private void say(String text) {
        System.out.println("[failover] " + text);
        report.add(text);
    }
}
