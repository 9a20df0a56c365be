package io.portcullis.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.debug.DebugAccess;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.source.SourceEvent;
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
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The control plane's own metrics as a Prometheus scrape of the debug endpoint's /metrics sees them. */
class ControlPlaneMetricsTest {

    private static final String TOKEN = "scrape-token";
    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");

    private EgressControlPlane controlPlane;
    private DebugEndpoint debug;

    @BeforeEach
    void start() throws Exception {
        controlPlane = new EgressControlPlane();
        debug = new DebugEndpoint(
                new InetSocketAddress("127.0.0.1", 0),
                controlPlane,
                new SidecarRegistry(controlPlane, Clock.systemUTC()),
                new DebugAccess(Optional.of(TOKEN), Optional.empty(), Set.of()));
        debug.start();
    }

    @AfterEach
    void stop() {
        debug.close();
    }

    @Test
    void metricsNeedTheDebugTokenLikeEveryDebugPath() throws Exception {
        HttpResponse<String> anonymous = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url("/metrics"))).build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body()).doesNotContain("portcullis_");
    }

    @Test
    void anOpenMetricsScrapeGetsOpenMetrics() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url("/metrics")))
                                .header("Authorization", "Bearer " + TOKEN)
                                .header("Accept", "application/openmetrics-text; version=1.0.0")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(response.headers().firstValue("Content-Type")).hasValue(ControlPlaneMetrics.OPENMETRICS_TEXT);
        assertThat(response.body()).endsWith("# EOF\n");
    }

    @Test
    void policyProblemsAreAGaugeByCauseThatFallsBackToZeroWhenFixed() throws Exception {
        assertThat(sample(scrape(), "portcullis_policy_problems{cause=\"route_group_not_found\",severity=\"error\"}"))
                .as("every series exists at 0 from the start")
                .isEqualTo(0.0);

        controlPlane.apply(update(egress().matchesRouteGroup("get-only").yaml()));
        assertThat(sample(scrape(), "portcullis_policy_problems{cause=\"route_group_not_found\",severity=\"error\"}"))
                .isEqualTo(1.0);

        controlPlane.apply(update(egress().yaml()));
        assertThat(sample(scrape(), "portcullis_policy_problems{cause=\"route_group_not_found\",severity=\"error\"}"))
                .isEqualTo(0.0);
    }

    @Test
    void eachRecomputationOfAnIdentitysSnapshotIsCountedAndTimedByWhetherItChanged() throws Exception {
        controlPlane.apply(update(egress().yaml()));
        controlPlane.ensureServed(CURL);
        controlPlane.apply(update(egress().host("example.com").yaml()));

        String scrape = scrape();
        assertThat(sample(scrape, "portcullis_snapshot_builds_total{outcome=\"new_version\"}"))
                .isEqualTo(2.0);
        assertThat(sample(scrape, "portcullis_snapshot_build_duration_seconds_count{outcome=\"new_version\"}"))
                .isEqualTo(2.0);
        assertThat(sample(
                        scrape,
                        "portcullis_snapshot_build_duration_seconds_bucket{outcome=\"new_version\",le=\"+Inf\"}"))
                .isEqualTo(2.0);
    }

    @Test
    void configSourceEventsAreCountedBySourceAndKindFromZero() throws Exception {
        var events = controlPlane.metrics().sourceEvents("directory", SourceEvent.DIRECTORY);
        assertThat(sample(scrape(), "portcullis_config_source_events_total{event=\"read_error\",source=\"directory\"}"))
                .isEqualTo(0.0);

        events.happened(SourceEvent.READ_ERROR);
        events.happened(SourceEvent.UPDATE_APPLIED);

        String scrape = scrape();
        assertThat(sample(scrape, "portcullis_config_source_events_total{event=\"read_error\",source=\"directory\"}"))
                .isEqualTo(1.0);
        assertThat(sample(
                        scrape, "portcullis_config_source_events_total{event=\"update_applied\",source=\"directory\"}"))
                .isEqualTo(1.0);
    }

    @Test
    void theLastConfigSourceUpdateIsAWallClockTimestampWithMillisecondsSoABenchmarkCanStartItsClockThere()
            throws Exception {
        assertThat(sample(scrape(), "portcullis_config_source_last_update_timestamp_seconds"))
                .as("no update yet")
                .isEqualTo(0.0);

        long before = System.currentTimeMillis();
        controlPlane.apply(update(egress().yaml()));
        long after = System.currentTimeMillis();

        double seconds = sample(scrape(), "portcullis_config_source_last_update_timestamp_seconds");
        assertThat(Math.round(seconds * 1000)).isBetween(before, after);
    }

    @Test
    void everyEnforcedUpdateAddsTheTranslationThreadsCpuItCostSoTheCostPerChangeIsSumOverCount() throws Exception {
        controlPlane.apply(update(egress().yaml()));
        double firstSum = sample(scrape(), "portcullis_config_apply_cpu_seconds_sum");
        assertThat(sample(scrape(), "portcullis_config_apply_cpu_seconds_count"))
                .isEqualTo(1.0);
        assertThat(firstSum).as("validating and building an identity costs CPU").isGreaterThan(0.0);

        controlPlane.apply(update(egress().yaml() + "---\n"
                + EgressManifest.named("other")
                        .host("example.com")
                        .port(80, "http")
                        .yaml()));

        assertThat(sample(scrape(), "portcullis_config_apply_cpu_seconds_count"))
                .isEqualTo(2.0);
        assertThat(sample(scrape(), "portcullis_config_apply_cpu_seconds_sum")).isGreaterThan(firstSum);
    }

    private static EgressManifest egress() {
        return EgressManifest.named("httpbin-80").host("httpbin.org").port(80, "http");
    }

    private static SourceUpdate update(String manifests) {
        ManifestSet set = new ManifestReader().read(manifests, "test");
        return new SourceUpdate(
                ResourceSnapshot.of(null, set.resourcesOf(Egress.class), set.resourcesOf(HTTPRouteGroup.class)),
                List.of());
    }

    private String scrape() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url("/metrics")))
                                .header("Authorization", "Bearer " + TOKEN)
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue(ControlPlaneMetrics.PROMETHEUS_TEXT);
        return response.body();
    }

    private String url(String path) {
        return "http://127.0.0.1:" + debug.address().getPort() + path;
    }

    /** The value of one series in a Prometheus text scrape; NaN when it is not there. */
    private static double sample(String scrape, String series) {
        Matcher line =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)").matcher(scrape);
        return line.find() ? Double.parseDouble(line.group(1)) : Double.NaN;
    }
}
