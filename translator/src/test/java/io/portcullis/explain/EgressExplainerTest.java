package io.portcullis.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.explain.Explanation.Allowed;
import io.portcullis.explain.Explanation.Aspect;
import io.portcullis.explain.Explanation.Denied;
import io.portcullis.explain.Explanation.Difference;
import java.util.List;
import org.assertj.core.api.ObjectAssert;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Every decision Envoy's config makes, each allowed case beside the near miss that is denied, against
 * one set of policies (src/test/resources/explain/policies.yaml). Every explanation's chain and route
 * are also checked to exist in the Envoy resources rendered from the same model.
 */
class EgressExplainerTest {

    private static final String POLICIES = ExplainFixture.resource("policies.yaml");
    private final ExplainFixture curl = ExplainFixture.of(POLICIES, "curl/curl");

    private Allowed allowed(String target, String... options) {
        Explanation explanation = curl.explain(target, options);
        assertThat(explanation).as(target + " " + List.of(options)).isInstanceOf(Allowed.class);
        return (Allowed) explanation;
    }

    private Denied denied(String target, String... options) {
        Explanation explanation = curl.explain(target, options);
        assertThat(explanation).as(target + " " + List.of(options)).isInstanceOf(Denied.class);
        return (Denied) explanation;
    }

    private static List<Aspect> aspects(Denied denied) {
        return denied.closest().orElseThrow().differences().stream()
                .map(Difference::aspect)
                .toList();
    }

    private static ObjectAssert<Allowed> assertPolicy(Allowed allowed, String policy) {
        assertThat(allowed.policies()).extracting(Object::toString).containsExactly(policy);
        return assertThat(allowed);
    }

    @Nested
    class HttpHost {

        @Test
        void hostOnItsPortIsAllowedByTheHostRoute() {
            Allowed allowed = allowed("http://httpbin.org/get");
            assertPolicy(allowed, "Egress curl/httpbin-80");
            assertThat(allowed.chain()).isEqualTo("egress_http_80");
            assertThat(allowed.route()).contains("allow Egress curl/httpbin-80");
        }

        @Test
        void anotherPortIsDeniedAndTheClosestPolicyDiffersByPort() {
            Denied denied = denied("http://httpbin.org:81/get");
            assertThat(denied.reason()).contains("no Egress policy of curl/curl allows port 81");
            assertThat(denied.chain()).isEqualTo("deny");
            assertThat(denied.closest().orElseThrow().policies())
                    .extracting(Object::toString)
                    .containsExactly("Egress curl/httpbin-80");
            assertThat(aspects(denied)).containsExactly(Aspect.PORT);
        }

        @Test
        void hostWithThePolicysPortIsAllowed() {
            assertPolicy(
                    allowed("http://httpbin.org/get", "--header", "Host=httpbin.org:80"), "Egress curl/httpbin-80");
        }

        @Test
        void hostWithAnotherPortIsDeniedWith403() {
            Denied denied = denied("http://httpbin.org/get", "--header", "Host: httpbin.org:8080");
            assertThat(denied.route()).contains("deny_host_not_allowed");
            assertThat(aspects(denied)).containsExactly(Aspect.HOST);
        }

        @Test
        void anUnknownHostIsDeniedNamingTheHostAsTheDifference() {
            Denied denied = denied("http://flomesh.io/");
            assertThat(denied.reason()).contains("Host flomesh.io is not an allowed host on port 80");
            assertThat(aspects(denied)).containsExactly(Aspect.HOST);
        }

        @Test
        void dialledIpWithAnAllowedHostHeaderIsAllowed() {
            // The forward proxy dials the Host as DNS resolves it, not the IP: what step 7 of the guide shows.
            assertPolicy(allowed("http://198.18.0.66/get", "--header", "Host=httpbin.org"), "Egress curl/httpbin-80");
        }

        @Test
        void tlsOnAnHttpPortIsDenied() {
            Denied denied = denied("https://httpbin.org:80/");
            assertThat(denied.chain()).isEqualTo("egress_http_80");
            assertThat(denied.reason()).contains("speaks plain HTTP");
        }
    }

    @Nested
    class WildcardHost {

        @Test
        void subdomainOnPort80IsAllowed() {
            assertPolicy(allowed("http://a.example.org/"), "Egress curl/subdomains-80");
            assertPolicy(allowed("http://a.b.example.org/"), "Egress curl/subdomains-80");
        }

        @Test
        void theBareDomainIsDenied() {
            assertThat(aspects(denied("http://example.org/"))).containsExactly(Aspect.HOST);
        }

        @Test
        void offPort80TheHostMustCarryThePort() {
            // curl writes the port into Host off the default port, so this one passes...
            assertPolicy(allowed("http://a.example.org:8081/"), "Egress curl/subdomains-80");
            // ...and a Host without it is refused: the forward proxy would dial port 80.
            Denied denied = denied("http://a.example.org:8081/", "--header", "Host=a.example.org");
            assertThat(denied.route()).contains("deny_host_not_allowed");
        }
    }

    @Nested
    class RouteMatches {

        @Test
        void pathRegexMatchesTheWholeNormalisedPathWithoutQuery() {
            Allowed allowed = allowed("http://api.example.com:8080/get?next=/admin");
            assertPolicy(allowed, "Egress curl/api-8080");
            assertThat(allowed.route()).contains("HTTPRouteGroup:curl/api#read:GET");
            assertPolicy(allowed("http://api.example.com:8080/get/anything"), "Egress curl/api-8080");
            assertPolicy(allowed("http://api.example.com:8080/admin/..//get"), "Egress curl/api-8080");
        }

        @Test
        void pathRegexIsAnchoredAtBothEnds() {
            for (String path : List.of("/getter", "/x/get", "/GET")) {
                Denied denied = denied("http://api.example.com:8080" + path);
                assertThat(denied.route()).as(path).contains("deny_no_route_match");
                assertThat(aspects(denied)).as(path).containsExactly(Aspect.PATH);
            }
        }

        @Test
        void theMethodIsMatchedExactly() {
            Allowed head = allowed("http://api.example.com:8080/get", "--method", "HEAD");
            assertThat(head.route()).contains("HTTPRouteGroup:curl/api#read:HEAD");
            Denied post = denied("http://api.example.com:8080/get", "--method", "POST");
            assertThat(aspects(post)).containsExactly(Aspect.METHOD);
            assertThat(denied("http://api.example.com:8080/get", "--method", "get")
                            .closest()
                            .orElseThrow()
                            .differences())
                    .extracting(Difference::aspect)
                    .containsExactly(Aspect.METHOD);
        }

        @Test
        void headerRegexesMatchTheWholeValue() {
            Allowed allowed =
                    allowed("http://api.example.com:8080/post", "--header", "X-Token=123", "--method", "POST");
            assertThat(allowed.route()).contains("HTTPRouteGroup:curl/api#token");
            assertThat(aspects(
                            denied("http://api.example.com:8080/post", "--header", "x-token=12a", "--method", "POST")))
                    .containsExactly(Aspect.HEADER);
            Denied missing = denied("http://api.example.com:8080/post", "--method", "POST");
            assertThat(missing.closest().orElseThrow().differences().get(0).request())
                    .isEqualTo("no x-token header");
        }
    }

    @Nested
    class Sni {

        @Test
        void anAllowedSniIsAllowedByTheTlsChain() {
            Allowed allowed = allowed("https://httpbin.org/get");
            assertPolicy(allowed, "Egress curl/tls-443");
            assertThat(allowed.chain()).isEqualTo("egress_tls_443");
            assertThat(allowed.route()).isEmpty();
        }

        @Test
        void anotherSniIsDeniedByTheDefaultChain() {
            Denied denied = denied("https://flomesh.io/");
            assertThat(denied.chain()).isEqualTo("deny");
            assertThat(aspects(denied)).containsExactly(Aspect.SNI);
        }

        @Test
        void aWildcardTakesSubdomainsOfAnyDepthButNotTheDomain() {
            // Envoy's server_names lookup tries "*." + every suffix after a dot.
            assertPolicy(allowed("https://a.example.com/"), "Egress curl/tls-443");
            assertPolicy(allowed("https://a.b.example.com/"), "Egress curl/tls-443");
            assertThat(aspects(denied("https://example.com/"))).containsExactly(Aspect.SNI);
        }

        @Test
        void anIpLiteralSendsNoSniUnlessGivenOne() {
            Denied denied = denied("https://198.18.0.66/get");
            assertThat(denied.reason()).contains("sends no SNI");
            assertPolicy(allowed("https://198.18.0.66/get", "--sni", "httpbin.org"), "Egress curl/tls-443");
        }

        @Test
        void plainHttpOnATlsPortIsDenied() {
            Denied denied = denied("http://httpbin.org:443/");
            assertThat(denied.reason()).contains("allows TLS only");
        }
    }

    @Nested
    class TcpRanges {

        @Test
        void theMostSpecificRangeHoldingTheAddressIsNamed() {
            Allowed allowed = allowed("10.1.2.3:5432");
            assertPolicy(allowed, "Egress curl/postgres");
            assertThat(allowed.chain()).isEqualTo("egress_tcp_5432");
            assertThat(allowed.match()).contains("10.1.2.0/24");
        }

        @Test
        void eachDecidingPolicyHasItsOwnChainAndExplainNamesTheOneEnvoyTakes() {
            ExplainFixture two = ExplainFixture.of(POLICIES + """
                            ---
                            kind: Egress
                            apiVersion: policy.flomesh.io/v1alpha1
                            metadata: {name: replica, namespace: curl}
                            spec:
                              sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                              ipAddresses: [10.3.0.0/16]
                              ports: [{number: 5432, protocol: tcp}]
                            """, "curl/curl");
            Allowed primary = (Allowed) two.explain("10.1.2.3:5432");
            assertThat(primary.chain()).isEqualTo("egress_tcp_5432_0");
            assertThat(primary.decidingPolicy()).map(Object::toString).contains("Egress curl/postgres");
            Allowed replica = (Allowed) two.explain("10.3.1.1:5432");
            assertThat(replica.chain()).isEqualTo("egress_tcp_5432_1");
            assertThat(replica.decidingPolicy()).map(Object::toString).contains("Egress curl/replica");
            assertThat(replica.policies())
                    .as("every policy granting TCP on the port")
                    .extracting(Object::toString)
                    .containsExactly("Egress curl/postgres", "Egress curl/replica");
            assertThat(ExplanationReport.toText(ExplanationReport.toJson(replica)))
                    .contains("decided by: curl/replica (the decision log's policy)");
        }

        @Test
        void rangeBoundaries() {
            assertPolicy(allowed("10.1.0.0:5432"), "Egress curl/postgres");
            assertPolicy(allowed("10.1.255.255:5432"), "Egress curl/postgres");
            assertThat(aspects(denied("10.2.0.0:5432"))).containsExactly(Aspect.ADDRESS);
            assertThat(aspects(denied("10.0.255.255:5432"))).containsExactly(Aspect.ADDRESS);
        }

        @Test
        void aNameNeedsTheAddressForRawTcp() {
            assertThat(curl.explain("db.internal:5432")).isInstanceOf(Explanation.AddressNeeded.class);
            assertPolicy(allowed("db.internal:5432", "--ip", "10.1.7.7"), "Egress curl/postgres");
        }

        @Test
        void anyAddressPortAllowsEveryAddressAndName() {
            assertPolicy(allowed("203.0.113.9:9000"), "Egress curl/any-9000");
            assertPolicy(allowed("https://anything.invalid:9000/"), "Egress curl/any-9000");
            assertThat(aspects(denied("203.0.113.9:9001"))).containsExactly(Aspect.PORT);
        }

        @Test
        void serverFirstPortIsAllowedInItsRangeAndNoted() {
            Allowed allowed = allowed("198.18.0.22:22");
            assertPolicy(allowed, "Egress curl/ssh-22");
            assertThat(allowed.notes()).anyMatch(n -> n.contains("server-first"));
            assertThat(aspects(denied("198.18.0.23:22"))).containsExactly(Aspect.ADDRESS);
        }

        @Test
        void onAPortWithRangesAndSniTheRangeWinsForItsAddresses() {
            assertPolicy(allowed("https://other.example.net:8443/", "--ip", "10.9.1.1"), "Egress curl/range-8443");
            assertPolicy(allowed("https://secure.example.net:8443/", "--ip", "203.0.113.1"), "Egress curl/secure-8443");
            Denied denied = denied("https://other.example.net:8443/", "--ip", "203.0.113.1");
            assertThat(denied.closest().orElseThrow().differences()).hasSize(1);
            assertThat(denied("203.0.113.1:8443").reason()).contains("raw TCP has no SNI");
        }

        @Test
        void anUnresolvedNameOnAPortWithRangesIsNoted() {
            Denied denied = denied("https://other.example.net:8443/");
            assertThat(denied.notes()).anyMatch(n -> n.contains("is not resolved") && n.contains("10.9.0.0/16"));
        }

        @Test
        void ipv6IsRefusedByTheFirewall() {
            assertThat(denied("[2001:db8::1]:9000").reason()).contains("IPv6");
        }
    }

    /**
     * Audit mode lets through what enforcement refuses and logs {@code would_deny}: each audited case beside
     * its enforced twin, with the same reason, closest grant and deciding policy, and the chain that really
     * forwards it.
     */
    @Nested
    class AuditMode {

        private static String auditing(String egress) {
            String metadata = "metadata: {name: " + egress + ", namespace: curl}";
            assertThat(POLICIES).contains(metadata);
            return POLICIES.replace(
                    metadata,
                    "metadata: {name: " + egress
                            + ", namespace: curl, annotations: {portcullis.io/egress-mode: audit}}");
        }

        private static Explanation.WouldDeny wouldDeny(ExplainFixture fixture, String target, String... options) {
            Explanation explanation = fixture.explain(target, options);
            assertThat(explanation).as(target).isInstanceOf(Explanation.WouldDeny.class);
            return (Explanation.WouldDeny) explanation;
        }

        private static void assertSameRefusal(Explanation.WouldDeny audited, Denied enforced) {
            assertThat(audited.reason()).isEqualTo(enforced.reason());
            assertThat(audited.closest()).isEqualTo(enforced.closest());
            assertThat(audited.decidingPolicy()).isEqualTo(enforced.decidingPolicy());
            assertThat(audited.route()).isEqualTo(enforced.route());
        }

        @Test
        void aPortNoPolicyNamesIsDeniedByTheDefaultChain() {
            Denied enforced = denied("203.0.113.9:9001");
            assertThat(enforced.chain()).isEqualTo("deny");
            assertThat(ExplanationReport.exitCode(ExplanationReport.toJson(enforced)))
                    .isEqualTo(1);
        }

        @Test
        void inAnAuditedNamespaceThatPortWouldBeDeniedAndTheDefaultChainForwardsIt() {
            ExplainFixture audited = ExplainFixture.of(POLICIES, "curl/curl", java.util.Set.of("curl"));
            Explanation.WouldDeny wouldDeny = wouldDeny(audited, "203.0.113.9:9001");
            assertSameRefusal(wouldDeny, denied("203.0.113.9:9001"));
            assertThat(wouldDeny.chain()).isEqualTo("deny");
            var json = ExplanationReport.toJson(wouldDeny);
            assertThat(json.get("verdict").asText()).isEqualTo("would-deny");
            assertThat(ExplanationReport.exitCode(json))
                    .as("the traffic passes")
                    .isZero();
            assertThat(ExplanationReport.toText(json))
                    .startsWith("WOULD-DENY: curl/curl -> tcp 203.0.113.9:9001")
                    .contains("allowed by audit mode, would be denied: no Egress policy of curl/curl allows port 9001");
        }

        @Test
        void inAnAuditedNamespaceWithBothSwitchesOffEverythingWouldBeDenied() {
            ExplainFixture off = ExplainFixture.of(
                    MeshModes.MESH.formatted(false, false) + POLICIES, "curl/curl", java.util.Set.of("curl"));
            assertThat(wouldDeny(off, "http://httpbin.org/get").chain()).isEqualTo("deny");
        }

        @Test
        void anAddressOutsideTheRangesIsDeniedWhenTheEgressIsEnforced() {
            Denied enforced = denied("10.2.0.0:5432");
            assertThat(enforced.chain()).isEqualTo("deny");
            assertThat(enforced.decidingPolicy()).isEmpty();
        }

        @Test
        void anAddressOutsideTheRangesOfAnAuditedEgressWouldBeDeniedAndItsPortsAuditChainForwardsIt() {
            ExplainFixture audited = ExplainFixture.of(auditing("postgres"), "curl/curl");
            Explanation.WouldDeny wouldDeny = wouldDeny(audited, "10.2.0.0:5432");
            assertSameRefusal(wouldDeny, denied("10.2.0.0:5432"));
            assertThat(wouldDeny.chain()).isEqualTo("audit_5432");
            assertThat(aspects(denied("10.2.0.0:5432"))).containsExactly(Aspect.ADDRESS);
            // The audit is the Egress's, on its port only: another port is still refused.
            assertThat(audited.explain("10.2.0.0:5433")).isInstanceOf(Denied.class);
            assertThat(audited.explain("10.1.2.3:5432")).isInstanceOf(Allowed.class);
        }

        @Test
        void aRequestNoRouteMatchAcceptsIsDeniedWith403NamingTheHostsPolicy() {
            Denied enforced = denied("http://api.example.com:8080/admin");
            assertThat(enforced.route()).contains("deny_no_route_match");
            assertThat(enforced.decidingPolicy()).map(Object::toString).contains("Egress curl/api-8080");
            assertThat(enforced.reason()).endsWith("the sidecar answers 403");
            assertThat(ExplanationReport.toJson(enforced).get("decidingPolicy").asText())
                    .as("as the decision log's policy field")
                    .isEqualTo("curl/api-8080");
        }

        @Test
        void aRequestNoRouteMatchOfAnAuditedEgressAcceptsWouldBeDeniedAndItsDenyRouteForwardsIt() {
            ExplainFixture audited = ExplainFixture.of(auditing("api-8080"), "curl/curl");
            Explanation.WouldDeny wouldDeny = wouldDeny(audited, "http://api.example.com:8080/admin");
            Denied enforced = denied("http://api.example.com:8080/admin");
            assertThat(wouldDeny.chain()).isEqualTo("egress_http_8080").isEqualTo(enforced.chain());
            assertThat(wouldDeny.route()).contains("deny_no_route_match");
            assertThat(wouldDeny.decidingPolicy()).isEqualTo(enforced.decidingPolicy());
            assertThat(wouldDeny.closest()).isEqualTo(enforced.closest());
            assertThat(enforced.reason()).startsWith(wouldDeny.reason());
            assertThat(wouldDeny.reason()).doesNotContain("403");
            // The HTTP chain can forward only HTTP: raw TCP there is refused, audit or not.
            Explanation raw = audited.explain("198.18.0.80:8080");
            assertThat(raw).isInstanceOf(Denied.class);
            assertThat(raw.notes()).anyMatch(n -> n.contains("audit mode does not let it through"));
        }
    }

    @Nested
    class MeshModes {

        static final String MESH = """
                apiVersion: config.flomesh.io/v1alpha3
                kind: MeshConfig
                metadata: {name: fsm-mesh-config, namespace: fsm-system}
                spec:
                  featureFlags: {enableEgressPolicy: %s}
                  traffic: {enableEgress: %s}
                ---
                """;

        @Test
        void passthroughAllowsEverythingWithoutAPolicy() {
            ExplainFixture passthrough = ExplainFixture.of(MESH.formatted(true, true) + POLICIES, "curl/other");
            Explanation explanation = passthrough.explain("https://flomesh.io/");
            assertThat(explanation).isInstanceOf(Allowed.class);
            assertThat(((Allowed) explanation).policies()).isEmpty();
            assertThat(((Allowed) explanation).chain()).isEqualTo("passthrough");
        }

        @Test
        void bothSwitchesOffDenyEvenWhatAPolicyNames() {
            ExplainFixture off = ExplainFixture.of(MESH.formatted(false, false) + POLICIES, "curl/curl");
            Explanation explanation = off.explain("http://httpbin.org/get");
            assertThat(explanation).isInstanceOf(Denied.class);
            assertThat(((Denied) explanation).reason()).contains("enableEgressPolicy");
        }

        @Test
        void anIdentityNoPolicyNamesIsDeniedWithNoClosestPolicy() {
            Explanation explanation = ExplainFixture.of(POLICIES, "curl/sleep").explain("http://httpbin.org/get");
            assertThat(explanation).isInstanceOf(Denied.class);
            assertThat(((Denied) explanation).reason()).contains("no Egress policy names curl/sleep");
            assertThat(((Denied) explanation).closest()).isEmpty();
        }
    }

    @Nested
    class Targets {

        @Test
        void usageErrorsSayWhatToWrite() {
            assertThatThrownBy(() -> EgressRequest.parse("ftp://x/", null, List.of(), null, null))
                    .hasMessageContaining("only http:// and https://");
            assertThatThrownBy(() -> EgressRequest.parse("httpbin.org", null, List.of(), null, null))
                    .hasMessageContaining("host:port");
            assertThatThrownBy(() -> EgressRequest.parse("https://x/", "GET", List.of(), null, null))
                    .hasMessageContaining("does not decrypt TLS");
            assertThatThrownBy(() -> EgressRequest.parse("x:99999", null, List.of(), null, null))
                    .hasMessageContaining("not a TCP port");
            assertThatThrownBy(() -> EgressRequest.parse("http://x:0/", null, List.of(), null, null))
                    .hasMessageContaining("not a TCP port");
        }

        @Test
        void hostHeaderCarriesThePortOnlyOffTheDefault() {
            assertThat(((EgressRequest.Http)
                                    EgressRequest.parse("http://Httpbin.org:80/get", null, List.of(), null, null))
                            .authority())
                    .isEqualTo("httpbin.org");
            assertThat(((EgressRequest.Http)
                                    EgressRequest.parse("http://httpbin.org:8080/", null, List.of(), null, null))
                            .authority())
                    .isEqualTo("httpbin.org:8080");
        }

        @Test
        void pathNormalisationFollowsEnvoy() {
            assertThat(RequestPath.normalize("/a/./b/../c//d?x=/../y")).isEqualTo("/a/c/d");
            assertThat(RequestPath.normalize("/%67et/%2e%2e/x%2fy")).isEqualTo("/x%2Fy");
            assertThat(RequestPath.normalize("/../..")).isEqualTo("/");
        }
    }
}
