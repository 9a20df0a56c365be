package io.portcullis.ir;

import static io.portcullis.validation.EgressProtocol.HTTP;
import static io.portcullis.validation.EgressProtocol.HTTPS;
import static io.portcullis.validation.EgressProtocol.TCP;
import static io.portcullis.validation.EgressProtocol.TCP_SERVER_FIRST;
import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.EgressSettings;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.Cidr;
import io.portcullis.validation.EgressProtocol;
import io.portcullis.validation.EgressRule;
import io.portcullis.validation.HttpMatchOrigin;
import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.validation.ValidatedPolicies;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The merge rules: several policies of one identity combine into one plan per port, as a union. */
class SidecarModelBuilderTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final ServiceAccountRef OTHER = new ServiceAccountRef("curl", "other");
    private static final HttpRequestMatch GET =
            new HttpRequestMatch(matchOrigin(0, "get"), "/get", List.of(), Map.of());
    private static final HttpRequestMatch STATUS =
            new HttpRequestMatch(matchOrigin(1, "status"), "/status.*", List.of(), Map.of());
    private static final HttpRequestMatch POST =
            new HttpRequestMatch(matchOrigin(2, "post"), "/post", List.of("POST"), Map.of());

    private final SidecarModelBuilder builder = new SidecarModelBuilder();

    @Test
    void aPolicyWithoutMatchesAllowsAnyRequestWhateverOthersRestrict() {
        SidecarEgressModel model = build(
                rule("get-only").hosts("httpbin.org").port(80, HTTP).matches(GET),
                rule("any").hosts("httpbin.org").port(80, HTTP));

        HttpHostAccess host = single(model).httpHosts().get(0);
        assertThat(host.anyRequest()).isTrue();
        assertThat(host.matches()).isEmpty();
        assertThat(host.origins()).containsExactly(origin("any"), origin("get-only"));
    }

    @Test
    void matchesOfSeveralPoliciesAreUnitedOnceEachInPolicyOrder() {
        SidecarEgressModel model = build(
                rule("a").hosts("httpbin.org").port(80, HTTP).matches(GET, STATUS),
                rule("b").hosts("httpbin.org", "example.org").port(80, HTTP).matches(STATUS, POST));

        List<HttpHostAccess> hosts = single(model).httpHosts();
        assertThat(hosts).extracting(HttpHostAccess::host).containsExactly("example.org", "httpbin.org");
        assertThat(hosts.get(0).matches()).containsExactly(STATUS, POST);
        assertThat(hosts.get(1).anyRequest()).isFalse();
        assertThat(hosts.get(1).matches()).containsExactly(GET, STATUS, POST);
    }

    @Test
    void tcpToAnyAddressSwallowsHttpAndTlsHostsOnThatPort() {
        SidecarEgressModel model = build(
                rule("tcp").port(443, TCP),
                rule("tls").hosts("httpbin.org").port(443, HTTPS),
                rule("http").hosts("httpbin.org").port(443, HTTP));

        PortPlan plan = single(model);
        assertThat(plan.tcp()).hasValueSatisfying(tcp -> {
            assertThat(tcp.anyAddress()).isTrue();
            assertThat(tcp.ranges()).isEmpty();
        });
        assertThat(plan.httpHosts()).isEmpty();
        assertThat(plan.tls()).isEmpty();
        assertThat(enforced(model).conflicts()).isEmpty();
    }

    @Test
    void anyAddressWinsOverRangesOfOtherPolicies() {
        SidecarEgressModel model = build(
                rule("ranged").ranges("10.0.0.0/8").port(5432, TCP),
                rule("anywhere").port(5432, TCP));

        TcpAccess tcp = single(model).tcp().orElseThrow();
        assertThat(tcp.anyAddress()).isTrue();
        assertThat(tcp.ranges()).isEmpty();
        // The ranged policy adds nothing to "any address", so the decision log names the other one.
        assertThat(tcp.origins()).containsExactly(origin("anywhere"));
        assertThat(tcp.anyAddressPolicy()).isEqualTo(origin("anywhere"));
    }

    @Test
    void tcpWithRangesKeepsTheHostChainsBesideIt() {
        SidecarEgressModel model = build(
                rule("tcp").ranges("10.0.0.0/8").port(8080, TCP),
                rule("http").hosts("httpbin.org").port(8080, HTTP));

        PortPlan plan = single(model);
        assertThat(plan.tcp().orElseThrow().ranges()).extracting(Cidr::toString).containsExactly("10.0.0.0/8");
        assertThat(plan.httpHosts()).extracting(HttpHostAccess::host).containsExactly("httpbin.org");
    }

    @Test
    void rangesAreUnitedSortedAndDeduplicated() {
        SidecarEgressModel model = build(
                rule("a").ranges("192.168.0.0/24", "10.0.0.0/8").port(5432, TCP),
                rule("b").ranges("10.1.2.3/16", "10.0.0.0/8").port(5432, TCP),
                rule("c").ranges("10.1.0.0/16").port(5432, TCP_SERVER_FIRST));

        PortPlan plan = single(model);
        assertThat(plan.serverFirst())
                .as("one server-first policy makes the port server-first")
                .isTrue();
        assertThat(plan.tcp().orElseThrow().ranges())
                .extracting(Cidr::toString)
                .containsExactly("10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/24");
    }

    @Test
    void tlsHostsAreUnitedSortedAndDeduplicated() {
        SidecarEgressModel model = build(
                rule("a").hosts("pypi.org", "httpbin.org").port(443, HTTPS),
                rule("b").hosts("httpbin.org", "api.github.com").port(443, HTTPS),
                rule("c").hosts("api.github.com").port(443, HTTPS));

        PortPlan plan = single(model);
        TlsAccess tls = plan.tls().orElseThrow();
        assertThat(tls.serverNames()).containsExactly("api.github.com", "httpbin.org", "pypi.org");
        assertThat(tls.origins()).containsExactly(origin("a"), origin("b"), origin("c"));
    }

    @Test
    void serverFirstDropsTlsHostsOnThePortWithAWarningNamingTheHttpsPolicy() {
        SidecarEgressModel model = build(
                rule("ldap").ranges("10.20.0.0/16").port(8443, TCP_SERVER_FIRST),
                rule("tls").hosts("httpbin.org").port(8443, HTTPS));

        PortPlan plan = single(model);
        assertThat(plan.tls()).isEmpty();
        assertThat(plan.tcp()).isPresent();
        assertThat(enforced(model).conflicts()).singleElement().satisfies(conflict -> {
            assertThat(conflict.severity()).isEqualTo(PolicyProblem.Severity.WARNING);
            assertThat(conflict.cause()).isEqualTo(PolicyProblem.Cause.PORT_CONFLICT);
            assertThat(conflict.resource()).isEqualTo(new ResourceKey("Egress", "curl", "tls"));
            assertThat(conflict.field()).isEqualTo("spec.ports");
            assertThat(conflict.message()).contains("port 8443", "Egress curl/ldap", "curl/curl", "[httpbin.org]");
        });
    }

    @Test
    void portsAreSortedAndOnlyTheIdentitysPoliciesCount() {
        List<EgressRule> rules = List.of(
                rule("b").hosts("httpbin.org").port(8080, HTTP).port(80, HTTP).build(),
                rule("a").port(22, TCP_SERVER_FIRST).build(),
                rule("other").sources(OTHER).port(5432, TCP).build());

        SidecarEgressModel model = builder.build(policies(new EgressSettings(true, false), rules), CURL);
        assertThat(enforced(model).ports()).extracting(PortPlan::port).containsExactly(22, 80, 8080);

        SidecarEgressModel other = builder.build(policies(new EgressSettings(true, false), rules), OTHER);
        assertThat(enforced(other).ports()).extracting(PortPlan::port).containsExactly(5432);

        SidecarEgressModel nobody = builder.build(
                policies(new EgressSettings(true, false), rules), new ServiceAccountRef("default", "default"));
        assertThat(enforced(nobody).ports())
                .as("policies are enforced for an identity no policy names: it may reach nothing")
                .isEmpty();
    }

    @Test
    void meshSettingsDecideTheMode() {
        List<EgressRule> rules =
                List.of(rule("a").hosts("httpbin.org").port(80, HTTP).build());
        assertThat(builder.build(policies(new EgressSettings(true, true), rules), CURL))
                .isEqualTo(new SidecarEgressModel.Passthrough(CURL));
        assertThat(builder.build(policies(new EgressSettings(false, true), rules), CURL))
                .isEqualTo(new SidecarEgressModel.Passthrough(CURL));
        assertThat(builder.build(policies(new EgressSettings(false, false), rules), CURL))
                .isEqualTo(new SidecarEgressModel.DenyAll(CURL));
        assertThat(builder.build(policies(new EgressSettings(true, false), rules), CURL))
                .isInstanceOf(SidecarEgressModel.PolicyEnforced.class);
    }

    /** Origins end up in route names, hence in the xDS version: their order must not vary between JVM runs. */
    @Test
    void originsIterateInSortedOrder() {
        List<RuleBuilder> rules = new ArrayList<>();
        for (String name : List.of("f", "c", "a", "e", "b", "d", "g")) {
            rules.add(rule(name).hosts("httpbin.org").port(80, HTTP).port(443, HTTPS));
            rules.add(rule("tcp-" + name).port(22, TCP));
        }
        SidecarEgressModel model = build(rules.toArray(RuleBuilder[]::new));
        List<String> sorted = List.of("a", "b", "c", "d", "e", "f", "g");
        List<PortPlan> ports = enforced(model).ports();
        assertThat(List.copyOf(ports.get(1).httpHosts().get(0).origins()))
                .extracting(PolicyOrigin::name)
                .isEqualTo(sorted);
        assertThat(List.copyOf(ports.get(2).tls().orElseThrow().origins()))
                .extracting(PolicyOrigin::name)
                .isEqualTo(sorted);
        assertThat(List.copyOf(ports.get(0).tcp().orElseThrow().origins()))
                .extracting(PolicyOrigin::name)
                .isEqualTo(sorted.stream().map(o -> "tcp-" + o).toList());
    }

    // ------------------------------------------------------------------ helpers

    private SidecarEgressModel build(RuleBuilder... rules) {
        List<EgressRule> built =
                java.util.Arrays.stream(rules).map(RuleBuilder::build).toList();
        return builder.build(policies(new EgressSettings(true, false), built), CURL);
    }

    private static PortPlan single(SidecarEgressModel model) {
        assertThat(enforced(model).ports()).hasSize(1);
        return enforced(model).ports().get(0);
    }

    private static SidecarEgressModel.PolicyEnforced enforced(SidecarEgressModel model) {
        assertThat(model).isInstanceOf(SidecarEgressModel.PolicyEnforced.class);
        return (SidecarEgressModel.PolicyEnforced) model;
    }

    private static PolicyOrigin origin(String name) {
        return new PolicyOrigin("curl", name);
    }

    private static HttpMatchOrigin matchOrigin(int index, String name) {
        return new HttpMatchOrigin("curl", "r", index, Optional.of(name));
    }

    private static ValidatedPolicies policies(EgressSettings mesh, List<EgressRule> rules) {
        return new ValidatedPolicies(mesh, rules, List.of());
    }

    private static RuleBuilder rule(String name) {
        return new RuleBuilder(name);
    }

    private static final class RuleBuilder {
        private final String name;
        private Set<ServiceAccountRef> sources = Set.of(CURL);
        private List<String> hosts = List.of();
        private List<Cidr> ranges = List.of();
        private final List<EgressRule.PortRule> ports = new ArrayList<>();
        private List<HttpRequestMatch> matches = List.of();

        RuleBuilder(String name) {
            this.name = name;
        }

        RuleBuilder sources(ServiceAccountRef... refs) {
            sources = Set.of(refs);
            return this;
        }

        RuleBuilder hosts(String... names) {
            hosts = List.of(names);
            return this;
        }

        RuleBuilder ranges(String... cidrs) {
            ranges = java.util.Arrays.stream(cidrs)
                    .map(c -> Cidr.parse(c).orElseThrow())
                    .distinct()
                    .toList();
            return this;
        }

        RuleBuilder port(int number, EgressProtocol protocol) {
            ports.add(new EgressRule.PortRule(number, protocol));
            return this;
        }

        RuleBuilder matches(HttpRequestMatch... routeMatches) {
            matches = List.of(routeMatches);
            return this;
        }

        EgressRule build() {
            return new EgressRule(origin(name), sources, hosts, ranges, ports, matches);
        }
    }
}
