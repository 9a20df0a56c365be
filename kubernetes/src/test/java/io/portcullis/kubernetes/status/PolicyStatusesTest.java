package io.portcullis.kubernetes.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.validation.EgressRule;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.validation.ValidatedPolicies;
import io.portcullis.xds.PolicyEvaluation;
import io.portcullis.xds.Quarantine;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/** The status each Egress and HTTPRouteGroup should have, from what the control plane enforces: no server needed. */
class PolicyStatusesTest {

    private static final String ROUTES = """
            ---
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata: {name: routes, namespace: curl, generation: 4}
            spec:
              matches:
              - {name: get, pathRegex: /get, methods: [GET]}
            """;

    @Test
    void aValidEgressIsAcceptedForTheGenerationEvaluatedNamingWhoseSidecarsEnforceIt() {
        SortedMap<ResourceKey, PolicyStatus> statuses = statuses(egress("httpbin", 3, """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """) + ROUTES);

        assertThat(statuses.get(key("Egress", "httpbin"))).satisfies(s -> {
            assertThat(s.conditionStatus()).isEqualTo("True");
            assertThat(s.reason().reason()).isEqualTo("Accepted");
            assertThat(s.generation()).isEqualTo(3L);
            assertThat(s.message()).isEqualTo("enforced for the sidecars of curl/curl");
        });
        assertThat(statuses.get(key("HTTPRouteGroup", "routes"))).satisfies(s -> {
            assertThat(s.conditionStatus()).isEqualTo("True");
            assertThat(s.generation()).isEqualTo(4L);
        });
    }

    @Test
    void aMissingRouteGroupIsRouteGroupNotFoundWithTheFieldAndTheValidatorsFix() {
        PolicyStatus status = statuses(egress("httpbin", 1, """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: nope}]
                """)).get(key("Egress", "httpbin"));

        assertThat(status.conditionStatus()).isEqualTo("False");
        assertThat(status.reason().reason()).isEqualTo("RouteGroupNotFound");
        assertThat(status.message())
                .isEqualTo("spec.matches[0].name: HTTPRouteGroup curl/nope does not exist; create it in namespace curl"
                        + " or fix the name");
    }

    @Test
    void aRegexEnvoyWouldRefuseIsRegexRefusedOnTheGroupAndRouteGroupInvalidOnTheEgressUsingIt() {
        SortedMap<ResourceKey, PolicyStatus> statuses = statuses(egress("httpbin", 1, """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """) + """
                ---
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: routes, namespace: curl}
                spec:
                  matches:
                  - {name: get, pathRegex: "/get("}
                """);

        assertThat(statuses.get(key("HTTPRouteGroup", "routes"))).satisfies(s -> {
            assertThat(s.reason()).isEqualTo(AcceptedReason.REGEX_REFUSED);
            assertThat(s.conditionStatus()).isEqualTo("False");
            assertThat(s.message()).contains("spec.matches[0].pathRegex: '/get(' has a '(' at offset 4");
        });
        assertThat(statuses.get(key("Egress", "httpbin"))).satisfies(s -> {
            assertThat(s.reason()).isEqualTo(AcceptedReason.ROUTE_GROUP_INVALID);
            assertThat(s.message()).contains("spec.matches[0].name: HTTPRouteGroup curl/routes is invalid");
        });
    }

    @Test
    void severalErrorsAreNumberedOnOneLineAndTheReasonIsTheFirstErrorsCause() {
        PolicyStatus status = statuses(egress("bad", 2, """
                  hosts: ['http://httpbin.org']
                  ports: [{number: 0, protocol: tcp}]
                """)).get(key("Egress", "bad"));

        assertThat(status.reason()).isEqualTo(AcceptedReason.INVALID);
        assertThat(status.message())
                .isEqualTo("(1) spec.hosts[0]: 'http://httpbin.org' is not a host name; write the bare host name (no"
                        + " scheme, port or path; ports go in spec.ports) (2) spec.ports[0].number: '0' is not a TCP"
                        + " port; use 1-65535");
    }

    @Test
    void aTcpPolicyVoidingAnotherPolicysRouteMatchesOnItsPortIsAcceptedWithReasonPortConflict() {
        SortedMap<ResourceKey, PolicyStatus> statuses =
                statuses(egress("httpbin", 1, """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}]
                """) + egress("any-80", 1, """
                  ports: [{number: 80, protocol: tcp}]
                """) + ROUTES);

        assertThat(statuses.get(key("Egress", "httpbin"))).satisfies(s -> {
            assertThat(s.conditionStatus()).as("still enforced").isEqualTo("True");
            assertThat(s.reason().reason()).isEqualTo("PortConflict");
            assertThat(s.message())
                    .startsWith("enforced for the sidecars of curl/curl, but spec.matches: have no effect on port 80"
                            + " for curl/curl: Egress curl/any-80 allows any TCP connection on that port");
        });
        assertThat(statuses.get(key("Egress", "any-80")).reason()).isEqualTo(AcceptedReason.ACCEPTED);
    }

    @Test
    void aPortConflictThatIsAnErrorIsNotAcceptedThoughItsReasonIsPortConflict() {
        ResourceSnapshot snapshot = snapshot(egress("mixed", 1, """
                  hosts: [ldap.example.com]
                  ports: [{number: 636, protocol: https}, {number: 636, protocol: tcp-server-first}]
                """));
        ResourceKey mixed = key("Egress", "mixed");
        PolicyProblem contradiction = PolicyProblem.error(
                PolicyProblem.Cause.PORT_CONFLICT,
                mixed,
                "spec.ports[1].protocol",
                "port 636 is also spec.ports[0] with protocol https; use one protocol per port");
        ValidatedPolicies refused = new ValidatedPolicies(
                snapshot.mesh(), List.of(), List.of(contradiction)); // as a validator refusing it reports it

        PolicyStatus status = PolicyStatuses.of(new PolicyEvaluation(snapshot, refused, List.of()))
                .get(mixed);

        assertThat(status.conditionStatus()).isEqualTo("False");
        assertThat(status.reason()).isEqualTo(AcceptedReason.PORT_CONFLICT);
        assertThat(status.message())
                .isEqualTo("spec.ports[1].protocol: port 636 is also spec.ports[0] with protocol https; use one"
                        + " protocol per port");
    }

    @Test
    void anIgnoredFieldIsAcceptedWithReasonFieldIgnored() {
        PolicyStatus status = statuses("""
                ---
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: gw, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl, mtls: {issuer: other}}]
                  ports: [{number: 5432, protocol: tcp}]
                """).get(key("Egress", "gw"));

        assertThat(status.conditionStatus()).isEqualTo("True");
        assertThat(status.reason()).isEqualTo(AcceptedReason.FIELD_IGNORED);
        assertThat(status.message()).contains("spec.sources[0].mtls: ignored");
    }

    @Test
    void aPolicyAnEnvoyRejectedIsRejectedByEnvoyWithEnvoysMessageAndTheIdentity() {
        String manifests = egress("httpbin", 5, """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                """);
        ResourceSnapshot snapshot = snapshot(manifests);
        ValidatedPolicies validated = new EgressTranslator().validate(snapshot);
        EgressRule rule = validated.rules().get(0);
        Quarantine quarantine = new Quarantine(
                new ServiceAccountRef("curl", "curl"),
                rule.origin().resource(),
                rule,
                "abc123",
                "RouteConfiguration",
                "sidecar~curl~curl~curl-1",
                "invalid regex");

        PolicyStatus status = PolicyStatuses.of(new PolicyEvaluation(snapshot, validated, List.of(quarantine)))
                .get(key("Egress", "httpbin"));

        assertThat(status.conditionStatus()).isEqualTo("False");
        assertThat(status.reason().reason()).isEqualTo("RejectedByEnvoy");
        assertThat(status.generation()).isEqualTo(5L);
        assertThat(status.message())
                .isEqualTo("the Envoy of curl/curl (sidecar sidecar~curl~curl~curl-1) rejected RouteConfiguration"
                        + " version abc123 built with it: invalid regex. " + quarantine.fix());
    }

    @Test
    void theSameEvaluationGivesEqualStatuses() {
        String manifests = egress("httpbin", 1, """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                """) + ROUTES;

        assertThat(statuses(manifests)).isEqualTo(statuses(manifests));
    }

    @Test
    void aConditionIsStatedByTheServersStatusRegardlessOfItsTransitionTimeButNotOfAnotherGeneration() {
        PolicyStatus status = new PolicyStatus(
                key("Egress", "x"),
                null,
                2L,
                null,
                false,
                AcceptedReason.ROUTE_GROUP_NOT_FOUND,
                "spec.matches[0].name: ...");
        Map<String, Object> written = status.toStatus(null, java.time.Instant.parse("2026-11-26T13:00:00.123Z"));

        assertThat(written).containsEntry("observedGeneration", 2L);
        assertThat((List<?>) written.get("conditions"))
                .singleElement()
                .satisfies(c -> assertThat(asMap(c))
                        .containsEntry("type", "Accepted")
                        .containsEntry("status", "False")
                        .containsEntry("reason", "RouteGroupNotFound")
                        .containsEntry("observedGeneration", 2L)
                        .containsEntry("lastTransitionTime", "2026-11-26T13:00:00Z"));
        assertThat(status.isStatedBy(written)).isTrue();
        assertThat(status.withGeneration(3L).isStatedBy(written)).isFalse();
        Map<String, Object> rewritten = status.toStatus(written, java.time.Instant.parse("2026-11-26T14:00:00Z"));
        assertThat(rewritten).as("no flip: the transition time stays").isEqualTo(written);

        PolicyStatus fixed = new PolicyStatus(key("Egress", "x"), null, 3L, null, true, AcceptedReason.ACCEPTED, "ok");
        Map<String, Object> flipped = fixed.toStatus(written, java.time.Instant.parse("2026-11-26T14:00:00Z"));
        assertThat(((List<?>) flipped.get("conditions")))
                .singleElement()
                .satisfies(c -> assertThat(asMap(c)).containsEntry("lastTransitionTime", "2026-11-26T14:00:00Z"));
    }

    // ------------------------------------------------------------------ helpers

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object condition) {
        return (Map<String, Object>) condition;
    }

    private static ResourceKey key(String kind, String name) {
        return new ResourceKey(kind, "curl", name);
    }

    private static SortedMap<ResourceKey, PolicyStatus> statuses(String manifests) {
        ResourceSnapshot snapshot = snapshot(manifests);
        return PolicyStatuses.of(new PolicyEvaluation(snapshot, new EgressTranslator().validate(snapshot), List.of()));
    }

    private static ResourceSnapshot snapshot(String manifests) {
        ManifestSet set = new ManifestReader().read(manifests, "test");
        assertThat(set.problems()).isEmpty();
        return ResourceSnapshot.of(null, set.resourcesOf(Egress.class), set.resourcesOf(HTTPRouteGroup.class));
    }

    private static String egress(String name, long generation, String spec) {
        return """
                ---
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata: {name: %s, namespace: curl, generation: %d}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                %s""".formatted(name, generation, spec);
    }
}
