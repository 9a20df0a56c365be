package io.portcullis.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.Namespaces;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.translator.EgressTranslator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What each version of an identity's resources covers, so that the xDS server re-sends only changed types. */
class SidecarResourcesVersionsTest {

    private static final String CURL = "curl/curl";

    @Test
    void theSamePoliciesGiveTheSameVersionOfEveryType() {
        String manifests = http("/get") + tcp();
        assertThat(translate(manifests).versions())
                .isEqualTo(translate(manifests).versions());
    }

    @Test
    void aChangedPathRegexChangesTheRouteAndConfigVersionsOnly() {
        SidecarResources.Versions before = translate(http("/get")).versions();
        SidecarResources.Versions after = translate(http("/anything")).versions();

        assertThat(after.routes()).isNotEqualTo(before.routes());
        assertThat(after.config()).isNotEqualTo(before.config());
        assertThat(after.listeners()).isEqualTo(before.listeners());
        assertThat(after.clusters()).isEqualTo(before.clusters());
    }

    @Test
    void aTcpPolicyChangesTheListenerAndConfigVersionsOnly() {
        SidecarResources.Versions before = translate(http("/get")).versions();
        SidecarResources.Versions after = translate(http("/get") + tcp()).versions();

        assertThat(after.listeners()).isNotEqualTo(before.listeners());
        assertThat(after.config()).isNotEqualTo(before.config());
        assertThat(after.routes()).isEqualTo(before.routes());
        assertThat(after.clusters()).isEqualTo(before.clusters());
    }

    @Test
    void tombstonesChangeTheRouteVersionButNeverTheConfigVersion() {
        SidecarResources live = translate(http("/get"));
        SidecarResources oneRetired = live.withRetiredRoutes(List.of("outbound_8080"));
        SidecarResources twoRetired = live.withRetiredRoutes(List.of("outbound_8080", "outbound_9090"));

        assertThat(oneRetired.version())
                .as("the config version depends on the policies alone: replicas agree on it")
                .isEqualTo(live.version())
                .isEqualTo(twoRetired.version());
        assertThat(List.of(
                        live.versions().routes(),
                        oneRetired.versions().routes(),
                        twoRetired.versions().routes()))
                .as("a change of the tombstones alone must re-send RDS, or Envoy keeps the retired, wider table")
                .doesNotHaveDuplicates();
        assertThat(oneRetired.versions().listeners()).isEqualTo(live.versions().listeners());
        assertThat(oneRetired.versions().clusters()).isEqualTo(live.versions().clusters());
        assertThat(live.withRetiredRoutes(
                        live.routes().stream().map(RouteConfiguration::getName).toList()))
                .as("a live table is no tombstone")
                .isEqualTo(live);
    }

    @Test
    void onlyListenersNamingRouteTablesMakeRouteTablesPartOfWhatASidecarMustHold() {
        SidecarResources http = translate(http("/get"));
        SidecarResources tcpOnly = translate(tcp());
        SidecarResources tcpWithTombstone = tcpOnly.withRetiredRoutes(
                http.routes().stream().map(RouteConfiguration::getName).toList());

        assertThat(http.versions().listenersUseRoutes()).isTrue();
        assertThat(http.versions().requiredTypes()).containsExactly("Listener", "Cluster", "RouteConfiguration");
        assertThat(tcpOnly.versions().listenersUseRoutes()).isFalse();
        assertThat(tcpWithTombstone.routes()).hasSize(1);
        assertThat(tcpWithTombstone.versions().listenersUseRoutes())
                .as("a retired table is asked for only while a draining chain uses it")
                .isFalse();
        assertThat(tcpWithTombstone.versions().requiredTypes()).containsExactly("Listener", "Cluster");
    }

    @Test
    void eachTypeVersionIsFoundByEnvoysMessageName() {
        SidecarResources.Versions versions = translate(http("/get")).versions();
        assertThat(versions.of("Listener")).contains(versions.listeners());
        assertThat(versions.of("Cluster")).contains(versions.clusters());
        assertThat(versions.of("RouteConfiguration")).contains(versions.routes());
        assertThat(versions.of("ClusterLoadAssignment")).isEmpty();
    }

    private static String http(String pathRegex) {
        return """
                ---
                apiVersion: policy.flomesh.io/v1alpha1
                kind: Egress
                metadata: {name: httpbin-80, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: get-only}]
                ---
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: get-only, namespace: curl}
                spec:
                  matches: [{name: allowed, pathRegex: "%s", methods: [GET]}]
                """.formatted(pathRegex);
    }

    private static String tcp() {
        return """
                ---
                apiVersion: policy.flomesh.io/v1alpha1
                kind: Egress
                metadata: {name: db-5432, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                  ipAddresses: [10.1.2.0/24]
                  ports: [{number: 5432, protocol: tcp}]
                """;
    }

    private static SidecarResources translate(String manifests) {
        ManifestSet set = new ManifestReader().read(manifests, "test");
        assertThat(set.problems()).as("test manifests").isEmpty();
        set.resources().forEach(r -> Namespaces.fillIn(r, MeshConfig.DEFAULT_NAMESPACE));
        EgressTranslator translator = new EgressTranslator();
        var policies = translator.validate(
                ResourceSnapshot.of(null, set.resourcesOf(Egress.class), set.resourcesOf(HTTPRouteGroup.class)));
        assertThat(policies.problems()).as("test manifests are valid").isEmpty();
        return translator.resources(translator.model(policies, ServiceAccountRef.parse(CURL)));
    }
}
