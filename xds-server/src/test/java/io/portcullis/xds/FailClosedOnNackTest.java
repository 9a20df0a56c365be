package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.source.SourceUpdate;
import io.portcullis.testfixtures.EgressManifest;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What an identity is served after its Envoy rejects (NACKs) a config: never more than it accepted before. */
class FailClosedOnNackTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final ResourceKey HTTPBIN = new ResourceKey("Egress", "curl", "httpbin-80");
    private static final String ROUTE = Resources.V3.ROUTE_TYPE_URL;
    private static final String ENVOY_SAYS = "RE2 program size of 120 > max program size of 100";

    private EgressControlPlane controlPlane;

    @BeforeEach
    void start() {
        controlPlane = new EgressControlPlane();
    }

    @Test
    void aNarrowedPolicyWhoseConfigIsRejectedIsLeftOutEntirelyWhileOtherPoliciesStay() {
        String v1 =
                serveAndAccept(egress("httpbin-80", "httpbin.org", null) + egress("example-80", "example.com", null));

        apply(egress("httpbin-80", "httpbin.org", "get-only")
                + routeGroup("get-only", "/get(/[a-z]{1,40})?")
                + egress("example-80", "example.com", null));
        String v2 = version();
        assertThat(hosts()).as("narrowed, before the NACK").containsEntry("httpbin.org", false);
        reject(ROUTE);

        assertThat(version()).isNotIn(v1, v2);
        assertThat(hosts())
                .as("the narrowed policy is dropped, not left open; the other one stays")
                .containsOnlyKeys("example.com")
                .containsEntry("example.com", true);
        assertThat(controlPlane.quarantined()).singleElement().satisfies(q -> {
            assertThat(q.policy()).isEqualTo(HTTPBIN);
            assertThat(q.identity()).isEqualTo(CURL);
            assertThat(q.version()).isEqualTo(v2);
            assertThat(q.type()).isEqualTo("RouteConfiguration");
            assertThat(q.envoyMessage()).isEqualTo(ENVOY_SAYS);
            assertThat(q.fix()).startsWith("Envoy rejected the config built from this policy");
        });
    }

    @Test
    void aQuarantinedPolicyStaysOutUntilItsContentChangesThenIsTriedAgain() {
        serveAndAccept(egress("httpbin-80", "httpbin.org", null));
        String narrowed =
                egress("httpbin-80", "httpbin.org", "get-only") + routeGroup("get-only", "/get(/[a-z]{1,40})?");
        apply(narrowed);
        reject(ROUTE);

        apply(narrowed + egress("example-80", "example.com", null));
        assertThat(hosts()).as("an unrelated change keeps the quarantine").containsOnlyKeys("example.com");
        assertThat(controlPlane.quarantined()).extracting(Quarantine::policy).containsExactly(HTTPBIN);

        apply(egress("httpbin-80", "httpbin.org", "get-only")
                + routeGroup("get-only", "/get")
                + egress("example-80", "example.com", null));
        assertThat(controlPlane.quarantined()).isEmpty();
        assertThat(hosts()).containsEntry("httpbin.org", false).containsEntry("example.com", true);
    }

    @Test
    void whenNoSidecarEverAcceptedAVersionEveryPolicyOfTheIdentityIsBlamed() {
        apply(egress("httpbin-80", "httpbin.org", null) + egress("example-80", "example.com", null));
        controlPlane.ensureServed(CURL);
        reject(Resources.V3.LISTENER_TYPE_URL);

        assertThat(hosts()).isEmpty();
        assertThat(controlPlane.quarantined())
                .extracting(q -> q.policy().name())
                .containsExactlyInAnyOrder("httpbin-80", "example-80");
    }

    @Test
    void aRejectedMeshConfigChangeServesDenyAllUntilTheInputChangesAgain() {
        serveAndAccept(egress("httpbin-80", "httpbin.org", null));
        applyWithMesh(egress("httpbin-80", "httpbin.org", null), true);
        assertThat(model()).isInstanceOf(SidecarEgressModel.Passthrough.class);

        reject(Resources.V3.LISTENER_TYPE_URL);

        assertThat(model())
                .as("nothing to blame: deny-all, not passthrough or the old policies")
                .isInstanceOf(SidecarEgressModel.DenyAll.class);
        assertThat(controlPlane.lockdowns())
                .singleElement()
                .satisfies(l -> assertThat(l.envoyMessage()).isEqualTo(ENVOY_SAYS));

        applyWithMesh(egress("httpbin-80", "httpbin.org", null), false);
        assertThat(controlPlane.lockdowns()).isEmpty();
        assertThat(hosts()).containsEntry("httpbin.org", true);
    }

    @Test
    void whenDeniedAllIsRejectedTooTheIdentityStaysDenyAll() {
        apply(egress("httpbin-80", "httpbin.org", null));
        controlPlane.ensureServed(CURL);
        reject(ROUTE);
        reject(Resources.V3.LISTENER_TYPE_URL);
        assertThat(model()).isInstanceOf(SidecarEgressModel.DenyAll.class);
        String denyAll = version();

        reject(Resources.V3.LISTENER_TYPE_URL);

        assertThat(version()).isEqualTo(denyAll);
        assertThat(model()).isInstanceOf(SidecarEgressModel.DenyAll.class);
    }

    @Test
    void oneSidecarRejectingWhatAnotherOfTheSameIdentityAcceptedStillFailsClosedForTheIdentity() {
        serveAndAccept(egress("httpbin-80", "httpbin.org", null));
        apply(egress("httpbin-80", "httpbin.org", "get-only") + routeGroup("get-only", "/get(/[a-z]{1,40})?"));
        String v2 = version();
        accept(v2); // curl-2, a newer bootstrap, takes it

        reject(ROUTE);

        assertThat(hosts())
                .as("blamed against what was accepted before v2, not v2 itself")
                .isEmpty();
        assertThat(controlPlane.quarantined()).extracting(Quarantine::policy).containsExactly(HTTPBIN);
    }

    @Test
    void aRejectionOfAVersionNoLongerServedQuarantinesNothing() {
        serveAndAccept(egress("httpbin-80", "httpbin.org", null));
        String routesOfV1 = typeVersion(ROUTE);
        apply(egress("httpbin-80", "httpbin.org", null) + egress("example-80", "example.com", null));
        String v2 = version();
        assertThat(typeVersion(ROUTE)).isNotEqualTo(routesOfV1);

        controlPlane.rejected(CURL, "sidecar~curl~curl~curl-1", ROUTE, routesOfV1, ENVOY_SAYS);
        controlPlane.awaitIdle(); // the answer to a NACK is built on the translation thread

        assertThat(version()).isEqualTo(v2);
        assertThat(controlPlane.quarantined()).isEmpty();
    }

    private String serveAndAccept(String manifests) {
        apply(manifests);
        controlPlane.ensureServed(CURL);
        controlPlane.awaitIdle();
        String version = version();
        accept(version);
        return version;
    }

    /** A sidecar of curl/curl now holds every type of config {@code version}. */
    private void accept(String version) {
        controlPlane.accepted(CURL, versions -> versions.config().equals(version));
    }

    /** curl-1 NACKs the version of {@code typeUrl} that curl/curl is served now. */
    private void reject(String typeUrl) {
        controlPlane.rejected(CURL, "sidecar~curl~curl~curl-1", typeUrl, typeVersion(typeUrl), ENVOY_SAYS);
        controlPlane.awaitIdle(); // the answer to a NACK is built on the translation thread
    }

    /** The version curl/curl is served of one xDS type. */
    private String typeVersion(String typeUrl) {
        return controlPlane
                .served(CURL)
                .orElseThrow()
                .resources()
                .versions()
                .of(SidecarStatus.shortType(typeUrl))
                .orElseThrow();
    }

    private void apply(String manifests) {
        applyWithMesh(manifests, false);
    }

    private void applyWithMesh(String manifests, boolean passthrough) {
        controlPlane.apply(update(manifests + mesh(passthrough)));
    }

    /** What a config source holding these manifests delivers. */
    static SourceUpdate update(String manifests) {
        ManifestSet set = new ManifestReader().read(manifests, "test");
        assertThat(set.problems()).isEmpty();
        MeshConfig mesh = set.resourcesOf(MeshConfig.class).stream().findFirst().orElse(null);
        return new SourceUpdate(
                ResourceSnapshot.of(mesh, set.resourcesOf(Egress.class), set.resourcesOf(HTTPRouteGroup.class)),
                List.of());
    }

    private String version() {
        return controlPlane.served(CURL).orElseThrow().resources().version();
    }

    private SidecarEgressModel model() {
        return controlPlane.served(CURL).orElseThrow().model();
    }

    /** Each HTTP host served to curl/curl on port 80, and whether any request to it passes (false: route matches only). */
    private java.util.Map<String, Boolean> hosts() {
        java.util.Map<String, Boolean> hosts = new java.util.TreeMap<>();
        if (!(model() instanceof SidecarEgressModel.PolicyEnforced policy)) {
            return hosts;
        }
        for (PortPlan port : policy.ports()) {
            for (HttpHostAccess host : port.httpHosts()) {
                hosts.put(host.host(), host.anyRequest());
            }
        }
        return hosts;
    }

    private static String mesh(boolean passthrough) {
        return """
                ---
                apiVersion: config.flomesh.io/v1alpha3
                kind: MeshConfig
                metadata:
                  name: fsm-mesh-config
                  namespace: fsm-system
                spec:
                  featureFlags:
                    enableEgressPolicy: true
                  traffic:
                    enableEgress: %s
                """.formatted(passthrough);
    }

    static String egress(String name, String host, String routeGroup) {
        EgressManifest egress = EgressManifest.named(name).host(host).port(80, "http");
        if (routeGroup != null) {
            egress.matchesRouteGroup(routeGroup);
        }
        return "---\n" + egress.yaml();
    }

    static String routeGroup(String name, String pathRegex) {
        return """
                ---
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata:
                  name: %s
                  namespace: curl
                spec:
                  matches:
                  - name: allowed
                    pathRegex: "%s"
                    methods: ["GET"]
                """.formatted(name, pathRegex);
    }
}
