package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.ManifestStore;
import io.portcullis.testfixtures.EgressManifest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane fed by its directory source, observed through the debug endpoint the way an
 * operator sees it: bad input is reported and skipped, good input keeps working, changes apply live.
 */
class ControlPlaneFromDirectoryTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final ServiceAccountRef OTHER = new ServiceAccountRef("shop", "cart");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private DirectoryConfigSource source;
    private DebugEndpoint debug;
    private EgressControlPlane controlPlane;
    private ManifestStore store;

    @BeforeEach
    void start() throws Exception {
        store = new ManifestStore(dir, "fsm-system");
        controlPlane = new EgressControlPlane();
        source = new DirectoryConfigSource(dir, "fsm-system");
        source.start(controlPlane::apply);
        debug = new DebugEndpoint(
                new InetSocketAddress("127.0.0.1", 0),
                controlPlane,
                new SidecarRegistry(controlPlane, Clock.systemUTC()));
        debug.start();
        controlPlane.ensureServed(CURL);
        controlPlane.ensureServed(OTHER);
    }

    @AfterEach
    void stop() {
        debug.close();
        source.close();
    }

    @Test
    void invalidPolicyIsReportedWithResourceAndFieldWhileTheValidOneIsServed() throws Exception {
        store.apply(
                egress("good", "http", "httpbin.org") + "---\n" + egress("bad", "htp", "httpbin.org"), "test", null);

        JsonNode problem = await().atMost(Duration.ofSeconds(10))
                .until(
                        () -> {
                            for (JsonNode p : get("/debug/problems").get("policies")) {
                                if (p.get("resource").asText().equals("Egress curl/bad")) {
                                    return p;
                                }
                            }
                            return null;
                        },
                        p -> p != null);
        assertThat(problem.get("severity").asText()).isEqualTo("ERROR");
        assertThat(problem.get("field").asText()).isEqualTo("spec.ports[0].protocol");
        assertThat(problem.get("message").asText()).contains("'htp'").contains("http, https, tcp, tcp-server-first");

        // The problem is published with the config, before its identities are built: wait for the builds.
        controlPlane.awaitIdle();
        JsonNode xds = get("/debug/xds/curl/curl");
        assertThat(xds.get("served").asBoolean()).isTrue();
        assertThat(xds.get("routes").toString()).contains("httpbin.org").contains("Egress curl/good");
        assertThat(xds.get("routes").toString()).doesNotContain("Egress curl/bad");
        // The model as 'portcullis translate' prints it: the mode and each grant's policies by name.
        assertThat(xds.at("/model/mode").asText()).isEqualTo("POLICY");
        assertThat(xds.at("/model/ports/0/httpHosts/0/origins/0").asText()).isEqualTo("Egress curl/good");
    }

    @Test
    // ReferenceEquality: a new snapshot object is what "served again" means here.
    @SuppressWarnings("ReferenceEquality")
    void aChangeRecomputesOnlyTheIdentitiesItTouches() throws Exception {
        store.apply(egress("good", "http", "httpbin.org"), "test", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> portsServedTo(CURL) == 1);
        var otherBefore = controlPlane.served(OTHER).orElseThrow();
        var curlBefore = controlPlane.served(CURL).orElseThrow();
        int otherRecomputations = controlPlane.recomputations(OTHER);
        int curlRecomputations = controlPlane.recomputations(CURL);

        store.apply(egress("second", "https", "httpbin.org"), "test", null);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> controlPlane.served(CURL).orElseThrow() != curlBefore);

        assertThat(controlPlane.recomputations(CURL))
                .as("the identity the new Egress names is recomputed")
                .isGreaterThan(curlRecomputations);
        // The snapshot object alone cannot tell: a recomputation that yields the same model keeps it.
        assertThat(controlPlane.recomputations(OTHER))
                .as("the identity no policy change names is not recomputed")
                .isEqualTo(otherRecomputations);
        assertThat(controlPlane.served(OTHER).orElseThrow())
                .as("untouched identity keeps its snapshot object")
                .isSameAs(otherBefore);
        assertThat(controlPlane
                        .cache()
                        .getSnapshot(CURL)
                        .version(io.envoyproxy.controlplane.cache.Resources.V3.LISTENER_TYPE_URL))
                .as("the cache holds each type at its own version")
                .isEqualTo(controlPlane
                        .served(CURL)
                        .orElseThrow()
                        .resources()
                        .versions()
                        .listeners());
    }

    @Test
    void aFileThatStopsParsingKeepsItsLastGoodResourcesAndIsReported() throws Exception {
        Path file = dir.resolve("policies.yaml");
        Files.writeString(file, egress("good", "http", "httpbin.org"));
        await().atMost(Duration.ofSeconds(10)).until(() -> portsServedTo(CURL) == 1);

        Files.writeString(file, egress("good", "http", "httpbin.org").replace("spec:", "spec: [unclosed"));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !controlPlane.sourceProblems().isEmpty());

        assertThat(controlPlane.sourceProblems()).anySatisfy(p -> assertThat(p).contains("policies.yaml"));
        assertThat(portsServedTo(CURL)).as("access granted before is kept").isEqualTo(1);
    }

    @Test
    void anIdentityWithoutSidecarsCanBeInspected() throws Exception {
        JsonNode xds = get("/debug/xds/nobody/here");
        assertThat(xds.get("served").asBoolean()).isFalse();
        assertThat(xds.get("listeners")
                        .get(0)
                        .get("defaultFilterChain")
                        .get("name")
                        .asText())
                .isEqualTo("deny");
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(
                                        "http://127.0.0.1:" + debug.address().getPort() + path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /**
     * How many destination ports the identity's served policies open (0 when it is not policy-enforced, or its
     * first config is still being built).
     */
    private int portsServedTo(ServiceAccountRef identity) {
        return controlPlane
                .served(identity)
                .map(served -> served.model() instanceof SidecarEgressModel.PolicyEnforced policy
                        ? policy.ports().size()
                        : 0)
                .orElse(0);
    }

    private static String egress(String name, String protocol, String host) {
        return EgressManifest.named(name)
                .host(host)
                .port("https".equals(protocol) ? 443 : 80, protocol)
                .yaml();
    }
}
