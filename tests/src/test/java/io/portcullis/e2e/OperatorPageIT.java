package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.testfixtures.EgressManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The operator page and {@code portcullis proxy-status} as an operator uses them, on a real control plane
 * ({@code portcullis serve}) with a real Envoy sidecar and a denial made by real curl: the denial reaches the
 * control plane only through the sidecar's gRPC access log. The page is rendered by headless Chromium
 * (Debian's package, installed by scripts/install-deps; missing, the test fails), and its screenshot is written to
 * {@code tests/target/operator-page.png} (docs/images/operator-page.png is a copy of it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperatorPageIT {

    private static final String REPLICA = "portcullis-0";
    private static final Duration WITHIN = Duration.ofSeconds(30);
    private static final String ALLOWED = "http://httpbin.org/get";
    /** Port 80 of httpbin.org is allowed for Host httpbin.org only: another Host gets the sidecar's 403. */
    private static final String DENIED_HOST = "evil.example";

    private Path workDir;
    private NetworkLab lab;
    private PortcullisCli cli;
    private ControlPlaneProcess controlPlane;
    private Pod curlPod;
    private Sidecar sidecar;

    @BeforeAll
    void start() throws Exception {
        LabWorkspace workspace = LabWorkspace.open("operator-page");
        workDir = workspace.workDir();
        lab = workspace.lab();
        cli = workspace.cli();
        cli.apply(EgressManifest.named("httpbin-80")
                .host("httpbin.org")
                .port(80, "http")
                .yaml());
        controlPlane = ControlPlaneProcess.withArgs(
                        cli, workDir.resolve("control-plane.log"), List.of("--replica-name", REPLICA))
                .awaitHealthy();
        curlPod = new Pod("pcl-curl", "curl", "curl", "curl-54ccc6954c-9rlvp", lab.caCertificate());
        sidecar = Sidecar.start(cli, curlPod, workDir);
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
    void chromiumShowsTheConnectedSidecarSyncedAndTheDenialItsSidecarReportedOverTheAccessLog() throws Exception {
        within(ALLOWED + " -> 200", () -> curlPod.curl(ALLOWED).ok());
        Pod.CurlResult denied = curlPod.curl("http://httpbin.org/anything", "-H", "Host: " + DENIED_HOST);
        assertThat(denied.status()).as(denied.toString()).isEqualTo(403);

        JsonNode decision = awaitReportedDenial();
        String reason = decision.get("reason").asText();
        assertThat(reason).as("the denial's reason, from the sidecar's config").isNotBlank();
        within(
                "the sidecar is SYNCED",
                () -> controlPlane.sidecars().size() == 1
                        && controlPlane
                                .sidecars()
                                .get(0)
                                .get("syncState")
                                .asText()
                                .equals("SYNCED"));

        HeadlessChromium chromium = HeadlessChromium.find(workDir);
        String dom = chromium.dumpDom(controlPlane.debugUrl() + "/");
        Files.writeString(workDir.resolve("operator-page.dom.html"), dom);
        Document page = Jsoup.parse(dom);

        assertThat(page.title()).isEqualTo("Portcullis: " + REPLICA);
        List<Element> sidecars = page.select("#sidecars tr.sidecar");
        assertThat(sidecars).as(page.select("#sidecars").text()).hasSize(1);
        Element row = sidecars.get(0);
        assertThat(row.select("td.identity").text()).isEqualTo("curl/curl");
        assertThat(row.select("td.pod").text()).isEqualTo(curlPod.podName());
        assertThat(row.select("td.replica").text()).isEqualTo(REPLICA);
        assertThat(row.select("td.sync").text()).isEqualTo("SYNCED");

        Element denial = page.select("#denials tr.denial").stream()
                .filter(tr -> tr.select("td.name").text().equals(DENIED_HOST))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no denial of " + DENIED_HOST + " on the page: "
                        + page.select("#denials").text()));
        assertThat(denial.select("td.identity").text()).isEqualTo("curl/curl");
        assertThat(denial.select("td.destination").text()).isEqualTo(NetworkLab.HTTPBIN_IP + ":80");
        assertThat(denial.select("td.decision").text()).isEqualTo("deny");
        assertThat(denial.select("td.reason").text()).isEqualTo(reason);

        assertThat(page.select("#identities tr.destination-row").eachText())
                .anySatisfy(text -> assertThat(text)
                        .contains("curl/curl")
                        .contains("httpbin.org")
                        .contains("Egress curl/httpbin-80"));
        assertThat(page.select("#problems").text()).contains("No problem");

        Path png = Files.createDirectories(Path.of("target")).resolve("operator-page.png");
        chromium.screenshot(controlPlane.debugUrl() + "/", png, 560);
        System.out.println("[operator-page] screenshot: " + png.toAbsolutePath());
    }

    @Test
    void proxyStatusListsTheSidecarWithPodReplicaAndSyncedAndExitsZero() {
        within(
                "the sidecar is SYNCED",
                () -> controlPlane.sidecars().size() == 1
                        && controlPlane
                                .sidecars()
                                .get(0)
                                .get("syncState")
                                .asText()
                                .equals("SYNCED"));

        ProcessRun run = cli.run(null, "proxy-status", "--server", controlPlane.debugUrl());

        System.out.print("[proxy-status]\n" + run.stdout());
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        List<String> lines = run.stdout().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1).split("\\s+")).startsWith("curl/curl", curlPod.podName(), REPLICA, "SYNCED");
    }

    /** The denial as the control plane received it from the sidecar's gRPC access log. */
    private JsonNode awaitReportedDenial() {
        JsonNode[] found = new JsonNode[1];
        within("the sidecar reports the denial of Host " + DENIED_HOST + " to the control plane", () -> {
            for (JsonNode d : controlPlane.refusals()) {
                if (DENIED_HOST.equals(d.path("host").asText())
                        && "curl/curl".equals(d.path("identity").asText())) {
                    found[0] = d;
                    return true;
                }
            }
            return false;
        });
        System.out.println("[operator-page] reported: " + found[0]);
        return found[0];
    }

    private void within(String what, java.util.concurrent.Callable<Boolean> check) {
        try {
            await(what)
                    .atMost(WITHIN)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        assertThat(sidecar.alive()).as("sidecar running").isTrue();
                        return check.call();
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            System.out.println("---- control plane log ----\n" + controlPlane.logText());
            System.out.println("---- envoy log ----\n" + sidecar.logText());
            throw e;
        }
    }
}
