package io.portcullis.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressPort;
import io.portcullis.crds.EgressSource;
import io.portcullis.crds.EgressSpec;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Problems must name the resource and the field (a path into the manifest), and a bad resource only itself. */
class PolicyValidatorTest {

    private static final String VALID = egress("valid", """
              hosts: [httpbin.org]
              ports: [{number: 443, protocol: https}]
            """);

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            ports: [{number: 9000, protocol: grpc}]                               | ERROR Egress curl/bad spec.ports[0].protocol: unknown protocol 'grpc'; use one of http, https, tcp, tcp-server-first
            ports: [{number: 80, protocol: tcp}, {number: 81, protocol: udp}]      | ERROR Egress curl/bad spec.ports[1].protocol: unknown protocol 'udp'
            ports: [{number: 0, protocol: tcp}]                                   | ERROR Egress curl/bad spec.ports[0].number: '0' is not a TCP port; use 1-65535
            ports: [{number: 65536, protocol: tcp}]                               | ERROR Egress curl/bad spec.ports[0].number: '65536' is not a TCP port
            ports: [{number: 80, protocol: http}]                                 | ERROR Egress curl/bad spec.hosts: empty, but spec.ports[0] is http
            ports: [{number: 443, protocol: https}]                               | ERROR Egress curl/bad spec.hosts: empty, but spec.ports[0] is https
            hosts: [git.example.com], ports: [{number: 22, protocol: tcp-server-first}, {number: 22, protocol: https}] | ERROR Egress curl/bad spec.ports[1].protocol: port 22 is both https and tcp-server-first in this policy; a tcp-server-first port gets no protocol detection
            hosts: [git.example.com], ports: [{number: 2222, protocol: http}, {number: 2222, protocol: tcp-server-first}] | ERROR Egress curl/bad spec.ports[1].protocol: port 2222 is both tcp-server-first and http in this policy
            ports: [{number: 22, protocol: tcp}, {number: 22, protocol: tcp-server-first}]                          | ERROR Egress curl/bad spec.ports[1].protocol: port 22 is both tcp-server-first and tcp in this policy
            ipAddresses: [10.0.0.0/8, 10.0.0.0/33], ports: [{number: 5432, protocol: tcp}] | ERROR Egress curl/bad spec.ipAddresses[1]: '10.0.0.0/33' is not an IP range
            hosts: [httpbin.org, 'http://httpbin.org'], ports: [{number: 80, protocol: http}]  | ERROR Egress curl/bad spec.hosts[1]: 'http://httpbin.org' is not a host name; write the bare host name
            hosts: [httpbin.org, 'httpbin.org:80'], ports: [{number: 80, protocol: http}]      | ERROR Egress curl/bad spec.hosts[1]: 'httpbin.org:80' is not a host name; write the bare host name
            hosts: [httpbin.org, 'a..b'], ports: [{number: 80, protocol: http}]                | ERROR Egress curl/bad spec.hosts[1]: 'a..b' is not a host name; write a DNS name
            hosts: [httpbin.org], ports: [{number: 80, protocol: http}], matches: [{apiGroup: specs.smi-spec.io/v1alpha3, kind: HTTPRouteGroup, name: r}] | ERROR Egress curl/bad spec.matches[0].apiGroup: is 'specs.smi-spec.io/v1alpha3'
            hosts: [httpbin.org], ports: [{number: 80, protocol: http}], matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: TCPRoute, name: r}]       | ERROR Egress curl/bad spec.matches[0].kind: is 'TCPRoute'
            hosts: [httpbin.org], ports: [{number: 80, protocol: http}], matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: nope}] | ERROR Egress curl/bad spec.matches[0].name: HTTPRouteGroup curl/nope does not exist; create it in namespace curl
            """)
    void problemNamesResourceAndField(String specFields, String expectedPrefix) {
        ValidatedPolicies policies = validate("""
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: bad, namespace: curl}
                spec: {sources: [{kind: ServiceAccount, name: curl, namespace: curl}], %s}
                """.formatted(specFields) + VALID);

        assertThat(policies.problems())
                .extracting(PolicyProblem::toString)
                .singleElement()
                .asString()
                .startsWith(expectedPrefix);
        assertThat(policies.problems().get(0).resource()).isEqualTo(new ResourceKey("Egress", "curl", "bad"));
        // Fail closed for the bad policy, nothing else affected.
        assertThat(policies.rules()).extracting(r -> r.origin().name()).containsExactly("valid");
    }

    @Test
    void sourceProblemsNameTheSourceIndex() {
        ValidatedPolicies policies = validate("""
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: bad, namespace: curl}
                spec:
                  sources:
                  - {kind: ServiceAccount, name: curl, namespace: curl}
                  - {kind: Group, name: developers, namespace: curl}
                  - {kind: ServiceAccount, name: Curl_App, namespace: curl}
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                """ + VALID);

        assertThat(policies.problems())
                .extracting(PolicyProblem::toString)
                .containsExactly(
                        "ERROR Egress curl/bad spec.sources[1].kind: is 'Group'; the only supported source kind is ServiceAccount",
                        "ERROR Egress curl/bad spec.sources[2].name: 'Curl_App' is not a ServiceAccount name;"
                                + " give the name of the workload's ServiceAccount");
        // The valid source curl/curl gets nothing from the rejected policy.
        assertThat(policies.rulesFor(new ServiceAccountRef("curl", "curl")))
                .extracting(r -> r.origin().name())
                .containsExactly("valid");
    }

    /** A ServiceAccount name is a DNS-1123 subdomain: at most 253 characters, each dot-separated part at most 63. */
    @Test
    void aSourceNameLongerThanAServiceAccountNameCanBeIsRejected() {
        String tooLong = "a".repeat(254);
        String partTooLong = "a".repeat(64) + ".curl";
        ValidatedPolicies policies = validate("""
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: bad, namespace: curl}
                spec:
                  sources:
                  - {kind: ServiceAccount, name: %s, namespace: curl}
                  - {kind: ServiceAccount, name: %s, namespace: curl}
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                """.formatted(tooLong, partTooLong) + VALID);

        assertThat(policies.problems())
                .extracting(PolicyProblem::toString)
                .containsExactly(
                        "ERROR Egress curl/bad spec.sources[0].name: '" + tooLong + "' is not a ServiceAccount name;"
                                + " give the name of the workload's ServiceAccount",
                        "ERROR Egress curl/bad spec.sources[1].name: '" + partTooLong
                                + "' is not a ServiceAccount name;"
                                + " give the name of the workload's ServiceAccount");
        assertThat(policies.rules()).extracting(r -> r.origin().name()).containsExactly("valid");
    }

    @Test
    void routeGroupProblemsNameTheGroupAndPolicyReferencingItIsRejected() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches:
                  - {name: ok, pathRegex: /get}
                  - {name: bad-path, pathRegex: "/get("}
                  - {name: bad-header, headers: {User-Agent: "[a-"}}
                  - {name: bad-method, methods: [GET, "GE T"]}
                """ + egress("uses-routes", """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """) + VALID);

        assertThat(policies.problems())
                .extracting(PolicyProblem::toString)
                .satisfiesExactly(
                        p -> assertThat(p)
                                .startsWith(
                                        "ERROR HTTPRouteGroup curl/routes spec.matches[1].pathRegex: '/get(' has a '(' at offset 4 that is never closed"),
                        p -> assertThat(p)
                                .startsWith(
                                        "ERROR HTTPRouteGroup curl/routes spec.matches[2].headers.User-Agent: '[a-' has a '[' at offset 0 that is never closed"),
                        p -> assertThat(p)
                                .startsWith(
                                        "ERROR HTTPRouteGroup curl/routes spec.matches[3].methods[1]: 'GE T' is not an HTTP method"),
                        p -> assertThat(p)
                                .startsWith(
                                        "ERROR Egress curl/uses-routes spec.matches[0].name: HTTPRouteGroup curl/routes is invalid"));
        assertThat(policies.rules()).extracting(r -> r.origin().name()).containsExactly("valid");
    }

    @Test
    void aSourceNamespaceWithADotIsRefusedAsNotANamespaceName() {
        ValidatedPolicies policies = validate("""
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: bad, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: a.b}]
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                """ + VALID);

        assertThat(policies.problems()).singleElement().satisfies(problem -> {
            assertThat(problem.resource()).isEqualTo(new ResourceKey("Egress", "curl", "bad"));
            assertThat(problem.field()).isEqualTo("spec.sources[0].namespace");
            assertThat(problem.message())
                    .isEqualTo("'a.b' is not a namespace name; a namespace is a DNS-1123 label:"
                            + " lower-case letters, digits and '-', at most 63 characters, no dots");
        });
        assertThat(policies.rules()).extracting(r -> r.origin().name()).containsExactly("valid");
    }

    @Test
    void anEmptyHeaderValueIsAnErrorOnThatHeaderWithTheRegexForAnyValue() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches:
                  - {name: debug, headers: {X-Debug: ""}}
                """);

        assertThat(policies.problems()).singleElement().satisfies(problem -> {
            assertThat(problem.resource()).isEqualTo(new ResourceKey("HTTPRouteGroup", "curl", "routes"));
            assertThat(problem.field()).isEqualTo("spec.matches[0].headers.X-Debug");
            assertThat(problem.message())
                    .isEqualTo("empty; give an RE2 regex the value must match, e.g. '.*' for any value");
        });
    }

    @Test
    void aRegexEnvoyWouldRefuseIsAnErrorOnItsFieldSayingWhy() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches:
                  - {name: nested, pathRegex: "/((a{10}){10}){11}"}
                  - {name: agent, headers: {User-Agent: "\\\\p{L}+"}}
                """);

        assertThat(policies.problems())
                .extracting(PolicyProblem::field)
                .containsExactly("spec.matches[0].pathRegex", "spec.matches[1].headers.User-Agent");
        assertThat(policies.problems().get(0).message()).startsWith("'/((a{10}){10}){11}' nests repetitions");
        assertThat(policies.problems().get(1).message()).startsWith("'\\p{L}+' uses the Unicode class");
    }

    @Test
    void perlOnlyRegexSyntaxIsRejectedBecauseEnvoyUsesRe2() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches:
                  - {name: lookahead, pathRegex: "/status(?=/200)"}
                  - {name: backref, pathRegex: "/(a)\\\\1"}
                """);
        assertThat(policies.problems())
                .extracting(PolicyProblem::field)
                .containsExactly("spec.matches[0].pathRegex", "spec.matches[1].pathRegex");
    }

    @Test
    void valuesAreNormalised() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches:
                  - {name: read, pathRegex: /get, methods: [get, HEAD, Get], headers: {X-Request-ID: "[0-9]+"}}
                  - {name: any, methods: [GET, "*"]}
                """ + egress("p", """
                  hosts: [HTTPBIN.org., httpbin.org, "*.Example.com"]
                  ipAddresses: [10.1.2.3/16, 10.1.0.0/16]
                  ports: [{number: 80, protocol: HTTP}, {number: 80, protocol: http}, {number: 5432, protocol: tcp}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """));

        assertThat(policies.problems()).isEmpty();
        EgressRule rule = policies.rules().get(0);
        assertThat(rule.hosts()).containsExactly("httpbin.org", "*.example.com");
        assertThat(rule.ipRanges()).extracting(Cidr::toString).containsExactly("10.1.0.0/16");
        assertThat(rule.ports())
                .containsExactly(
                        new EgressRule.PortRule(80, EgressProtocol.HTTP),
                        new EgressRule.PortRule(5432, EgressProtocol.TCP));
        assertThat(rule.matches()).hasSize(2);
        HttpRequestMatch read = rule.matches().get(0);
        assertThat(read.origin()).hasToString("HTTPRouteGroup:curl/routes#read");
        assertThat(read.methods()).containsExactly("GET", "HEAD");
        assertThat(read.headers()).containsOnlyKeys("x-request-id");
        assertThat(rule.matches().get(1).methods()).as("'*' means any method").isEmpty();
        assertThat(rule.matches().get(1).pathRegex()).isNull();
    }

    @Test
    void matchesOnAPolicyWithoutHttpPortsAreAWarningNotAnError() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches: [{name: get, pathRegex: /get}]
                """ + egress("tls-with-matches", """
                  hosts: [httpbin.org]
                  ports: [{number: 443, protocol: https}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """));

        assertThat(policies.problems())
                .extracting(PolicyProblem::toString)
                .containsExactly(
                        "WARNING Egress curl/tls-with-matches spec.matches: ignored: HTTP route matches apply only to ports"
                                + " with protocol http");
        assertThat(policies.rules()).hasSize(1);
    }

    @Test
    void routeGroupIsLookedUpInThePolicysNamespaceOnly() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: other}
                spec:
                  matches: [{name: get, pathRegex: /get}]
                """ + egress("p", """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """));
        assertThat(policies.problems()).extracting(PolicyProblem::field).containsExactly("spec.matches[0].name");
        assertThat(policies.rules()).isEmpty();
    }

    @Test
    void omittedSourceNamespaceMeansThePolicysNamespace() {
        Egress egress = new Egress(
                "curl",
                "p",
                new EgressSpec(
                        List.of(new EgressSource("ServiceAccount", "app", null)),
                        List.of(),
                        List.of(),
                        List.of(new EgressPort(5432, "tcp")),
                        List.of()));
        ValidatedPolicies policies =
                new PolicyValidator().validate(ResourceSnapshot.of(null, List.of(egress), List.of()));
        assertThat(policies.problems()).isEmpty();
        assertThat(policies.namedIdentities()).containsExactly(new ServiceAccountRef("curl", "app"));
    }

    @Test
    void emptySourcesAndPortsAreErrors() {
        Egress egress =
                new Egress("curl", "empty", new EgressSpec(List.of(), List.of(), List.of(), List.of(), List.of()));
        ValidatedPolicies policies =
                new PolicyValidator().validate(ResourceSnapshot.of(null, List.of(egress), List.of()));
        assertThat(policies.problems())
                .extracting(PolicyProblem::toString)
                .satisfiesExactly(
                        p -> assertThat(p).startsWith("ERROR Egress curl/empty spec.sources: empty"),
                        p -> assertThat(p).startsWith("ERROR Egress curl/empty spec.ports: empty"));
        assertThat(policies.rules()).isEmpty();
    }

    @Test
    void fsmSourceMtlsIsAcceptedWithAWarningThatItIsNotUsed() {
        Egress egress = new Egress(
                "curl",
                "gw",
                new EgressSpec(
                        List.of(new EgressSource(
                                "ServiceAccount", "curl", "curl", java.util.Map.of("issuer", "other"))),
                        List.of(),
                        List.of(),
                        List.of(new EgressPort(5432, "tcp")),
                        List.of()));
        ValidatedPolicies policies =
                new PolicyValidator().validate(ResourceSnapshot.of(null, List.of(egress), List.of()));
        assertThat(policies.problems())
                .extracting(PolicyProblem::toString)
                .singleElement()
                .satisfies(p -> assertThat(p).startsWith("WARNING Egress curl/gw spec.sources[0].mtls: ignored"));
        assertThat(policies.rules()).hasSize(1);
    }

    @Test
    void eachProblemCarriesTheCauseAStatusReasonIsMadeOf() {
        ValidatedPolicies policies = validate("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches:
                  - {name: bad-path, pathRegex: "/get("}
                  - {name: empty-header, headers: {X-Debug: ""}}
                """ + egress("uses-bad-routes", """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """) + egress("uses-missing-routes", """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: nope}]
                """)
                + egress("bad-port", """
                  ports: [{number: 0, protocol: tcp}]
                """) + egress("tcp-with-matches", """
                  ports: [{number: 5432, protocol: tcp}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """));

        assertThat(policies.problems())
                .extracting(p -> p.resource().name() + " " + p.field() + " " + p.cause())
                .containsExactlyInAnyOrder(
                        "routes spec.matches[0].pathRegex REGEX_REFUSED",
                        "routes spec.matches[1].headers.X-Debug REGEX_REFUSED",
                        "uses-bad-routes spec.matches[0].name ROUTE_GROUP_INVALID",
                        "uses-missing-routes spec.matches[0].name ROUTE_GROUP_NOT_FOUND",
                        "bad-port spec.ports[0].number INVALID",
                        "tcp-with-matches spec.matches[0].name ROUTE_GROUP_INVALID",
                        "tcp-with-matches spec.matches IGNORED");
    }

    // ------------------------------------------------------------------ helpers

    /** An Egress in namespace curl for ServiceAccount curl/curl; {@code spec} is the rest of its spec, indented. */
    static String egress(String name, String spec) {
        return """
                ---
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: %s, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                %s""".formatted(name, spec);
    }

    static ValidatedPolicies validate(String yaml) {
        ManifestSet manifests = new ManifestReader().read(yaml, "test");
        assertThat(manifests.problems()).as("test manifests must parse").isEmpty();
        return new PolicyValidator()
                .validate(ResourceSnapshot.of(
                        null, manifests.resourcesOf(Egress.class), manifests.resourcesOf(HTTPRouteGroup.class)));
    }
}
