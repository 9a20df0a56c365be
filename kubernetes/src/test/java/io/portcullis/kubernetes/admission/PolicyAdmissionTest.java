package io.portcullis.kubernetes.admission;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.GroupVersionKind;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The verdicts of /validate as kubectl shows them: refused with one line per problem naming resource,
 * field and fix; allowed with warnings; never refused for what depends on the order of applies.
 */
class PolicyAdmissionTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String SOURCES = "sources: [{kind: ServiceAccount, name: curl, namespace: curl}]";

    private final PolicyAdmission admission = new PolicyAdmission();

    @Test
    void aValidEgressIsAllowedWithoutWarnings() {
        AdmissionResponse response = admission.review(create(egress("httpbin", """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                """)));

        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getWarnings()).isNullOrEmpty();
    }

    @Test
    void anHttpEgressWithoutHostsIsRefusedNamingTheFieldAndTheFix() {
        AdmissionResponse response = admission.review(create(egress("bad", """
                  ports: [{number: 80, protocol: http}]
                """)));

        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getCode()).isEqualTo(422);
        assertThat(response.getStatus().getMessage())
                .isEqualTo("Egress curl/bad is invalid: spec.hosts: empty, but spec.ports[0] is http, which is"
                        + " matched by host name; list the hosts, or use protocol tcp to allow any host on port 80");
    }

    @Test
    void tcpServerFirstMixedWithAnotherProtocolOnOnePortIsRefused() {
        AdmissionResponse response = admission.review(create(egress("git", """
                  hosts: [git.example.com]
                  ports: [{number: 22, protocol: tcp-server-first}, {number: 22, protocol: https}]
                """)));

        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage())
                .startsWith("Egress curl/git is invalid: spec.ports[1].protocol: port 22 is both https and"
                        + " tcp-server-first in this policy")
                .contains("list port 22 once, or move the other protocol to another port");
    }

    @Test
    void aRegexEnvoyWouldRefuseIsRefusedInTheHttpRouteGroup() {
        AdmissionResponse response = admission.review(create(routeGroup("get", """
                  matches:
                  - {name: ok, pathRegex: '/get'}
                  - {name: lookahead, pathRegex: '/(?=admin)'}
                """)));

        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage())
                .startsWith("HTTPRouteGroup curl/get is invalid: spec.matches[1].pathRegex: '/(?=admin)' ");
    }

    @Test
    void everyProblemGetsItsOwnLine() {
        AdmissionResponse response = admission.review(create(egress("bad", """
                  hosts: ['https://httpbin.org']
                  ipAddresses: [10.0.0.0/33]
                  ports: [{number: 80, protocol: http}, {number: 9000, protocol: grpc}]
                """)));

        assertThat(response.getStatus().getMessage().lines())
                .containsExactly(
                        "Egress curl/bad is invalid (4 problems):",
                        "- spec.hosts[0]: 'https://httpbin.org' is not a host name; write the bare host name"
                                + " (no scheme, port or path; ports go in spec.ports)",
                        "- spec.ipAddresses[0]: '10.0.0.0/33' is not an IP range; write CIDR notation such as"
                                + " 198.18.0.0/16 or a single address",
                        "- spec.hosts: empty, but spec.ports[0] is http, which is matched by host name; list the"
                                + " hosts, or use protocol tcp to allow any host on port 80",
                        "- spec.ports[1].protocol: unknown protocol 'grpc'; use one of http, https, tcp,"
                                + " tcp-server-first");
    }

    @Test
    void anEgressNamingAnHttpRouteGroupThatDoesNotExistYetIsAllowed() {
        // kubectl apply -f dir/ may send the Egress before the group; the status reports a group still missing.
        AdmissionResponse response = admission.review(create(egress("httpbin", """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: not-yet}]
                """)));

        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getWarnings()).isNullOrEmpty();
    }

    @Test
    void whatTheControlPlaneIgnoresComesBackAsWarnings() {
        AdmissionResponse response = admission.review(create(egress("db", """
                  ipAddresses: [10.0.0.0/8]
                  ports: [{number: 5432, protocol: tcp}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: get}]
                """)));

        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getWarnings())
                .containsExactly("spec.matches: ignored: HTTP route matches apply only to ports with protocol http");
    }

    @Test
    void aConflictOnAPortInsideOneEgressComesBackAsAWarning() {
        AdmissionResponse response = admission.review(create(egress("mixed", """
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: tcp}, {number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: get}]
                """)));

        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getWarnings())
                .singleElement()
                .asString()
                .startsWith("spec.matches: have no effect on port 80 for curl/curl");
    }

    @Test
    void aFieldTheModelDoesNotKnowIsRefusedAsTheDirectorySourceRefusesIt() {
        AdmissionResponse response = admission.review(create(egress("typo", """
                  hosts: [httpbin.org]
                  hostz: [example.com]
                  ports: [{number: 80, protocol: http}]
                """)));

        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage()).contains("hostz");
    }

    @Test
    void theRequestNamespaceIsUsedWhenTheObjectHasNone() {
        Map<String, Object> object = egress("bad", "  ports: [{number: 443, protocol: https}]\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) object.get("metadata");
        metadata.remove("namespace");

        AdmissionResponse response = admission.review(request("CREATE", "curl", object, null));

        assertThat(response.getStatus().getMessage()).startsWith("Egress curl/bad is invalid: spec.hosts: empty");
    }

    @Test
    void deleteIsAlwaysAllowed() {
        Map<String, Object> invalid = egress("bad", "  ports: [{number: 80, protocol: http}]\n");

        AdmissionResponse response = admission.review(request("DELETE", "curl", null, invalid));

        assertThat(response.getAllowed()).isTrue();
    }

    @Test
    void anUpdateThatLeavesAnInvalidSpecAsStoredIsAllowedWithTheProblemsAsWarnings() {
        Map<String, Object> stored = egress("bad", "  ports: [{number: 80, protocol: http}]\n");
        Map<String, Object> labelled = egress("bad", "  ports: [{number: 80, protocol: http}]\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) labelled.get("metadata");
        metadata.put("labels", Map.of("team", "payments"));

        AdmissionResponse response = admission.review(request("UPDATE", "curl", labelled, stored));

        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getWarnings())
                .singleElement()
                .asString()
                .startsWith("stored with errors, the control plane does not enforce it: spec.hosts: empty");
    }

    @Test
    void anUpdateThatMakesTheSpecInvalidIsRefused() {
        Map<String, Object> stored = egress("web", "  hosts: [httpbin.org]\n  ports: [{number: 80, protocol: http}]\n");
        Map<String, Object> broken = egress("web", "  ports: [{number: 80, protocol: http}]\n");

        AdmissionResponse response = admission.review(request("UPDATE", "curl", broken, stored));

        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage()).startsWith("Egress curl/web is invalid: spec.hosts: empty");
    }

    @Test
    void anEgressWhoseModeIsNeitherAuditNorEnforceIsRefusedNamingTheAnnotationAndTheFix() {
        AdmissionResponse response = admission.review(create(withMode(valid("web"), "adit")));

        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage())
                .isEqualTo("Egress curl/web is invalid: metadata.annotations[\"portcullis.io/egress-mode\"]: \"adit\""
                        + " is neither \"audit\" nor \"enforce\"; write \"audit\" (let through what this Egress's"
                        + " ports would refuse, logged as would_deny) or \"enforce\", or remove the annotation"
                        + " (enforce)");
    }

    @Test
    void anEgressAnnotatedAuditOrEnforceIsAllowedWithoutWarnings() {
        for (String mode : java.util.List.of("audit", "enforce")) {
            AdmissionResponse response = admission.review(create(withMode(valid("web"), mode)));

            assertThat(response.getAllowed()).as(mode).isTrue();
            assertThat(response.getWarnings()).as(mode).isNullOrEmpty();
        }
    }

    @Test
    void anUpdateThatOnlyAnnotatesAnInvalidModeIsRefusedThoughTheSpecIsUnchanged() {
        AdmissionResponse response =
                admission.review(request("UPDATE", "curl", withMode(valid("web"), "Audit"), valid("web")));

        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage())
                .startsWith("Egress curl/web is invalid: metadata.annotations[\"portcullis.io/egress-mode\"]:"
                        + " \"Audit\" is neither");
    }

    @Test
    void anUpdateThatKeepsAStoredInvalidModeIsAllowedWithTheProblemAsAWarning() {
        Map<String, Object> stored = withMode(valid("web"), "adit");
        Map<String, Object> labelled = withMode(valid("web"), "adit");
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) labelled.get("metadata");
        metadata.put("labels", Map.of("team", "payments"));

        AdmissionResponse response = admission.review(request("UPDATE", "curl", labelled, stored));

        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getWarnings())
                .singleElement()
                .asString()
                .startsWith("stored with an invalid egress mode, the control plane enforces it:"
                        + " metadata.annotations[\"portcullis.io/egress-mode\"]: \"adit\" is neither");
    }

    @Test
    void anUpdateThatFixesTheModeOfAnEgressStoredWithAnInvalidSpecIsAllowed() {
        Map<String, Object> stored = withMode(egress("bad", "  ports: [{number: 80, protocol: http}]\n"), "adit");
        Map<String, Object> fixed = withMode(egress("bad", "  ports: [{number: 80, protocol: http}]\n"), "audit");

        AdmissionResponse response = admission.review(request("UPDATE", "curl", fixed, stored));

        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getWarnings())
                .singleElement()
                .asString()
                .startsWith("stored with errors, the control plane does not enforce it: spec.hosts: empty");
    }

    @Test
    void aKindPortcullisDoesNotOwnIsAllowed() {
        AdmissionRequest request = request("CREATE", "curl", Map.of("apiVersion", "v1", "kind", "ConfigMap"), null);
        request.setKind(new GroupVersionKind("", "ConfigMap", "v1"));

        assertThat(admission.review(request).getAllowed()).isTrue();
    }

    private static AdmissionRequest create(Map<String, Object> object) {
        return request("CREATE", "curl", object, null);
    }

    private static AdmissionRequest request(
            String operation, String namespace, Map<String, Object> object, Map<String, Object> oldObject) {
        Map<String, Object> any = object != null ? object : oldObject;
        String kind = String.valueOf(any.get("kind"));
        String apiVersion = String.valueOf(any.get("apiVersion"));
        AdmissionRequest request = new AdmissionRequest();
        request.setUid("uid-1");
        request.setOperation(operation);
        request.setNamespace(namespace);
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) any.get("metadata");
        request.setName(metadata == null ? null : String.valueOf(metadata.get("name")));
        request.setKind(new GroupVersionKind(
                apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "", kind, "v1alpha"));
        request.setObject(object);
        request.setOldObject(oldObject);
        return request;
    }

    static Map<String, Object> egress(String name, String specFields) {
        return yaml("""
                apiVersion: policy.flomesh.io/v1alpha1
                kind: Egress
                metadata: {name: %s, namespace: curl}
                spec:
                  %s
                %s""".formatted(name, SOURCES, specFields));
    }

    private static Map<String, Object> valid(String name) {
        return egress(name, "  hosts: [httpbin.org]\n  ports: [{number: 80, protocol: http}]\n");
    }

    /** The object with annotation portcullis.io/egress-mode set to {@code mode}. */
    private static Map<String, Object> withMode(Map<String, Object> object, String mode) {
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) object.get("metadata");
        metadata.put("annotations", Map.of("portcullis.io/egress-mode", mode));
        return object;
    }

    static Map<String, Object> routeGroup(String name, String specFields) {
        return yaml("""
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata: {name: %s, namespace: curl}
                spec:
                %s""".formatted(name, specFields));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(String text) {
        try {
            return new java.util.LinkedHashMap<>(YAML.readValue(text, Map.class));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(text, e);
        }
    }
}
