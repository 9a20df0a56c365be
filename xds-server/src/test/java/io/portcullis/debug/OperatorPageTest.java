package io.portcullis.debug;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.decisions.EgressDecision;
import io.portcullis.decisions.RecentDecisions;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.source.SourceUpdate;
import io.portcullis.testfixtures.EgressManifest;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator page as the debug endpoint serves it, with decisions recorded straight into the control
 * plane's {@link RecentDecisions} (OperatorPageIT has them come from a real sidecar and renders in Chromium).
 */
class OperatorPageTest {

    private EgressControlPlane controlPlane;
    private RecentDecisions decisions;
    private DebugEndpoint endpoint;

    @BeforeEach
    void start() throws Exception {
        controlPlane = new EgressControlPlane();
        String manifests = EgressManifest.named("httpbin-80")
                        .host("httpbin.org")
                        .port(80, "http")
                        .yaml()
                + "---\n"
                + EgressManifest.named("broken")
                        .host("example.com")
                        .port(80, "http")
                        .matchesRouteGroup("missing")
                        .yaml();
        ManifestSet set = new ManifestReader().read(manifests, "test");
        controlPlane.apply(new SourceUpdate(
                ResourceSnapshot.of(null, set.resourcesOf(Egress.class), set.resourcesOf(HTTPRouteGroup.class)),
                List.of()));
        decisions = controlPlane.decisions();
        endpoint = new DebugEndpoint(
                new InetSocketAddress("127.0.0.1", 0),
                controlPlane,
                new SidecarRegistry(controlPlane, Clock.systemUTC()),
                "portcullis-0",
                DebugAccess.loopbackOnly());
        endpoint.start();
    }

    @AfterEach
    void stop() {
        endpoint.close();
    }

    @Test
    void showsTheIdentitysAllowedDestinationFromTheTranslatedModelWithThePolicyThatAllowsIt() throws Exception {
        Document page = page();

        Element row = page.selectFirst("#identities tr.destination-row");
        assertThat(row).isNotNull();
        assertThat(row.select("td").eachText())
                .containsExactly(
                        "curl/curl (no sidecar connected)",
                        "POLICY",
                        "80",
                        "http",
                        "httpbin.org",
                        "any request",
                        "Egress curl/httpbin-80");
        assertThat(page.select("#replica").text()).isEqualTo("portcullis-0");
        assertThat(page.select("#sidecars").text()).contains("No sidecar is connected to this replica.");
    }

    @Test
    void listsTheProblemsOfDebugProblemsWithResourceAndField() throws Exception {
        Document page = page();

        assertThat(page.select("#problems tr.problem").eachText())
                .anySatisfy(
                        text -> assertThat(text).contains("Egress curl/broken").contains("missing"));
    }

    @Test
    void listsRecordedDenialsNewestFirstAndLeavesOutAllowedConnections() throws Exception {
        decisions.record(decision("deny", "93.184.215.14:443", "example.org", null, "no Egress allows it"));
        decisions.record(decision("allow", "198.18.0.7:80", null, "httpbin.org", "allowed"));
        decisions.record(decision("would_deny", "198.18.0.9:22", null, null, "no Egress allows it"));

        Document page = page();

        List<Element> rows = page.select("#denials tr.denial");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).select("td.destination").text()).isEqualTo("198.18.0.9:22");
        assertThat(rows.get(0).select("td.decision").text()).isEqualTo("would_deny");
        assertThat(rows.get(1).select("td.identity").text()).isEqualTo("curl/curl");
        assertThat(rows.get(1).select("td.destination").text()).isEqualTo("93.184.215.14:443");
        assertThat(rows.get(1).select("td.name").text()).isEqualTo("example.org");
        assertThat(rows.get(1).select("td.reason").text()).isEqualTo("no Egress allows it");
    }

    @Test
    void aHostileHostHeaderIsShownAsTextAndNoScriptCouldRunAnyway() throws Exception {
        String hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
        decisions.record(decision("deny", "198.18.0.7:80", null, hostile, "no route for this Host"));

        HttpResponse<String> response = get("/");
        Document page = Jsoup.parse(response.body());

        assertThat(page.select("script, img")).isEmpty();
        assertThat(page.select("#denials td.name").text()).isEqualTo(hostile);
        assertThat(response.headers().firstValue("Content-Security-Policy"))
                .hasValue(OperatorPage.CONTENT_SECURITY_POLICY);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    }

    @Test
    void anUnknownPathIsStill404() throws Exception {
        assertThat(get("/nothing-here").statusCode()).isEqualTo(404);
        assertThat(get("/debug/sidecars?staleAfter=soon").statusCode()).isEqualTo(400);
    }

    private static EgressDecision decision(
            String decision, String destination, String sni, String host, String reason) {
        return new EgressDecision(
                Instant.now(),
                "curl/curl",
                destination,
                sni != null ? "tls" : host != null ? "http" : "tcp",
                sni,
                host,
                host != null ? "GET" : null,
                host != null ? "/" : null,
                decision,
                null,
                null,
                reason,
                host != null ? 403 : null);
    }

    private Document page() throws Exception {
        HttpResponse<String> response = get("/");
        assertThat(response.statusCode()).isEqualTo(200);
        return Jsoup.parse(response.body());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(
                                        "http://127.0.0.1:" + endpoint.address().getPort() + path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }
}
