package io.portcullis.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.translator.Translation;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Policy text must reach Envoy as literal text where it is literal: a method is not a regex. */
class RouteMatchEscapingTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");

    private static Translation translate(String routeGroupMatches) {
        String yaml = """
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: api, namespace: curl}
                spec:
                  matches:
                """ + routeGroupMatches + """
                ---
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: api, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: api}]
                """;
        ManifestSet set = new ManifestReader().read(yaml, "test");
        assertThat(set.problems()).isEmpty();
        return new EgressTranslator()
                .translate(
                        ResourceSnapshot.of(null, set.resourcesOf(Egress.class), set.resourcesOf(HTTPRouteGroup.class)),
                        List.of(CURL));
    }

    @Test
    void eachMethodIsItsOwnRouteWithAnExactMethodMatchSoRegexMetacharactersAreLiteral() {
        Translation translation = translate("""
                  - name: odd
                    methods: [GET, ".*"]
                """);
        var routes = translation
                .resources()
                .get(CURL)
                .routes()
                .get(0)
                .getVirtualHosts(0)
                .getRoutesList();
        assertThat(routes)
                .extracting(r -> r.getName())
                .containsExactly(
                        "HTTPRouteGroup:curl/api#odd:GET", "HTTPRouteGroup:curl/api#odd:.*", "deny_no_route_match");
        assertThat(routes.subList(0, 2)).allSatisfy(route -> {
            assertThat(route.getMatch().getHeadersList()).singleElement().satisfies(header -> {
                assertThat(header.getName()).isEqualTo(":method");
                assertThat(header.getStringMatch().hasSafeRegex())
                        .as("a method is never a regex")
                        .isFalse();
            });
        });
        assertThat(routes.get(0).getMatch().getHeaders(0).getStringMatch().getExact())
                .isEqualTo("GET");
        assertThat(routes.get(1).getMatch().getHeaders(0).getStringMatch().getExact())
                .isEqualTo(".*");
    }

    @Test
    void headerNamesDifferingOnlyInCaseAreAnErrorNotAnOverwrite() {
        Translation translation = translate("""
                  - name: agent
                    headers:
                      User-Agent: a
                      user-agent: b
                """);
        assertThat(translation.policies().problems())
                .anySatisfy(problem -> assertThat(problem.toString())
                        .contains("HTTPRouteGroup curl/api spec.matches[0].headers.user-agent")
                        .contains("case-insensitive"));
        assertThat(translation.policies().rules())
                .as("the Egress naming the invalid group is skipped")
                .isEmpty();
    }
}
