package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.micrometer.core.instrument.Counter;
import io.portcullis.envoy.EgressNames;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.metrics.ControlPlaneMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Identities whose models are equal but for the identity are served one build: the same resources, so the same
 * version, translated once (counted in {@code portcullis_resource_builds_total}). Identities no policy names are
 * served one deny config prepared with each config, before any of their sidecars asks. What must stay per identity
 * (retired route tables) is added to an identity's own copy.
 */
class SharedBuildsTest {

    private static final ServiceAccountRef FRONT = new ServiceAccountRef("shop", "front");
    private static final ServiceAccountRef BACK = new ServiceAccountRef("shop", "back");
    private static final ServiceAccountRef NOBODY = new ServiceAccountRef("shop", "nobody");

    private static final String MESH = """
            kind: MeshConfig
            apiVersion: config.flomesh.io/v1alpha3
            metadata:
              name: fsm-mesh-config
              namespace: fsm-system
            spec:
              featureFlags:
                enableEgressPolicy: true
              traffic:
                enableEgress: false
            """;

    /** One policy naming both identities. */
    private static final String BOTH_TO_HTTPBIN = """
            ---
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: httpbin-80
              namespace: shop
            spec:
              sources:
              - kind: ServiceAccount
                name: front
                namespace: shop
              - kind: ServiceAccount
                name: back
                namespace: shop
              hosts:
              - httpbin.org
              ports:
              - number: 80
                protocol: http
            """;

    /** A second policy, for one of them. */
    private static final String BACK_TO_DB = """
            ---
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: db-5432
              namespace: shop
            spec:
              sources:
              - kind: ServiceAccount
                name: back
                namespace: shop
              ipAddresses:
              - 10.0.0.0/24
              ports:
              - number: 5432
                protocol: tcp
            """;

    private final EgressControlPlane controlPlane = new EgressControlPlane();

    @Test
    void twoIdentitiesNamedByOnePolicyAreServedOneBuildTranslatedOnce() {
        controlPlane.apply(FailClosedOnNackTest.update(MESH + BOTH_TO_HTTPBIN));
        double translated = builds("translated");
        connect(FRONT, BACK);

        SidecarResources front = served(FRONT);
        SidecarResources back = served(BACK);
        assertThat(back.version()).isEqualTo(front.version());
        assertThat(back).as("one build, not two equal ones").isSameAs(front);
        assertThat(front.routes()).extracting(RouteConfiguration::getName).isNotEmpty();
        assertThat(builds("shared"))
                .as("the second identity's resources were shared")
                .isEqualTo(1);
        assertThat(builds("translated"))
                .as("their sidecars connecting translates nothing: both were prepared")
                .isEqualTo(translated);
    }

    @Test
    void aChangeOfOneOfThemSplitsThemAndTheOtherKeepsItsVersion() {
        controlPlane.apply(FailClosedOnNackTest.update(MESH + BOTH_TO_HTTPBIN));
        connect(FRONT, BACK);
        SidecarResources together = served(FRONT);
        double translated = builds("translated");

        controlPlane.apply(FailClosedOnNackTest.update(MESH + BOTH_TO_HTTPBIN + BACK_TO_DB));

        assertThat(served(FRONT)).as("front's policies did not change").isSameAs(together);
        assertThat(served(BACK).version()).isNotEqualTo(together.version());
        assertThat(builds("translated")).as("back's new model, translated once").isEqualTo(translated + 1);

        controlPlane.apply(FailClosedOnNackTest.update(MESH + BOTH_TO_HTTPBIN));

        assertThat(served(BACK).version())
                .as("equal models again: one version again")
                .isEqualTo(served(FRONT).version());
    }

    @Test
    void anIdentityNoPolicyNamesIsServedThePreparedDenyConfigWithoutATranslation() {
        controlPlane.apply(FailClosedOnNackTest.update(MESH + BOTH_TO_HTTPBIN));
        double translated = builds("translated");

        connect(NOBODY);

        SidecarResources nobody = served(NOBODY);
        assertThat(builds("translated"))
                .as("prepared with the config, before its sidecar asked")
                .isEqualTo(translated);
        assertThat(nobody.routes()).isEmpty();
        assertThat(nobody.listeners()).singleElement().satisfies(listener -> {
            assertThat(listener.getFilterChainsList()).as("no port is allowed").isEmpty();
            assertThat(listener.getDefaultFilterChain().getName()).isEqualTo(EgressNames.DENY_CHAIN);
        });
        ServiceAccountRef other = new ServiceAccountRef("other", "nobody");
        connect(other);
        assertThat(served(other)).as("every unnamed identity, in any namespace").isSameAs(nobody);
    }

    @Test
    void oneIdentitysRetiredRouteTablesNeverReachAnotherIdentityServedTheSameBuild() {
        controlPlane.apply(FailClosedOnNackTest.update(MESH + BOTH_TO_HTTPBIN));
        connect(FRONT, NOBODY);
        List<String> frontRoutes =
                served(FRONT).routes().stream().map(RouteConfiguration::getName).toList();

        controlPlane.apply(FailClosedOnNackTest.update(MESH));

        SidecarResources front = served(FRONT);
        SidecarResources nobody = served(NOBODY);
        assertThat(front.listeners()).as("both are now unnamed: one build").isEqualTo(nobody.listeners());
        assertThat(front.version()).isEqualTo(nobody.version());
        assertThat(front.routes())
                .extracting(RouteConfiguration::getName)
                .as("front keeps deny-all tombstones of the route tables it was served")
                .containsExactlyElementsOf(frontRoutes);
        assertThat(nobody.routes()).as("nobody was never served them").isEmpty();
        assertThat(front.versions().routes()).isNotEqualTo(nobody.versions().routes());
    }

    @Test
    void buildsNoIdentityIsServedAnyMoreAreDropped() {
        controlPlane.apply(FailClosedOnNackTest.update(MESH + BOTH_TO_HTTPBIN + BACK_TO_DB));
        connect(FRONT, BACK);
        assertThat(controlPlane.sharedBuilds())
                .as("front's, back's and the prepared deny")
                .isEqualTo(3);

        controlPlane.apply(FailClosedOnNackTest.update(MESH));

        assertThat(controlPlane.sharedBuilds())
                .as("front and back are unnamed now: only the prepared deny is kept")
                .isEqualTo(1);
    }

    private void connect(ServiceAccountRef... identities) {
        for (ServiceAccountRef identity : identities) {
            controlPlane.ensureServed(identity);
        }
        controlPlane.awaitIdle();
    }

    private SidecarResources served(ServiceAccountRef identity) {
        return controlPlane.served(identity).orElseThrow().resources();
    }

    private double builds(String outcome) {
        Counter counter = controlPlane
                .metrics()
                .registry()
                .find(ControlPlaneMetrics.RESOURCE_BUILDS)
                .tag("outcome", outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }
}
