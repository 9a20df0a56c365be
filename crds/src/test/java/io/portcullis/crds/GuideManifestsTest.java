package io.portcullis.crds;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every manifest of the FSM egress policy guide, copied verbatim into src/test/resources/guide. */
class GuideManifestsTest {
    private final ManifestReader reader = new ManifestReader();
    private final ManifestWriter writer = new ManifestWriter();

    private ManifestSet readClean(String file) {
        ManifestSet set = reader.read(TestFiles.resource("guide/" + file), file);
        assertThat(set.problems()).isEmpty();
        assertThat(set.ignored()).isEmpty();
        return set;
    }

    private static final EgressSource CURL_SA = new EgressSource("ServiceAccount", "curl", "curl");

    @Test
    void httpEgress() {
        ManifestSet set = readClean("01-http-egress.yaml");
        assertThat(set.resources()).singleElement().isInstanceOf(Egress.class);
        Egress egress = set.resourcesOf(Egress.class).get(0);
        assertThat(egress.getApiVersion()).isEqualTo("policy.flomesh.io/v1alpha1");
        assertThat(egress.getKind()).isEqualTo("Egress");
        assertThat(egress.getMetadata().getName()).isEqualTo("httpbin-80");
        assertThat(egress.getMetadata().getNamespace()).isEqualTo("curl");
        assertThat(egress.getSpec())
                .isEqualTo(new EgressSpec(
                        List.of(CURL_SA), List.of("httpbin.org"), null, List.of(new EgressPort(80, "http")), null));
        assertThat(egress.getSpec().ipAddresses()).isEmpty();
        assertThat(egress.getSpec().matches()).isEmpty();
    }

    @Test
    void httpsEgress() {
        Egress egress =
                readClean("02-https-egress.yaml").resourcesOf(Egress.class).get(0);
        assertThat(egress.getMetadata().getName()).isEqualTo("httpbin-443");
        assertThat(egress.getMetadata().getNamespace()).isEqualTo("curl");
        assertThat(egress.getSpec().sources()).containsExactly(CURL_SA);
        assertThat(egress.getSpec().hosts()).containsExactly("httpbin.org");
        assertThat(egress.getSpec().ports()).containsExactly(new EgressPort(443, "https"));
    }

    @Test
    void tcpEgressHasNoHosts() {
        Egress egress =
                readClean("03-tcp-egress.yaml").resourcesOf(Egress.class).get(0);
        assertThat(egress.getMetadata().getName()).isEqualTo("tcp-443");
        assertThat(egress.getSpec().sources()).containsExactly(CURL_SA);
        assertThat(egress.getSpec().hosts()).isEmpty();
        assertThat(egress.getSpec().ipAddresses()).isEmpty();
        assertThat(egress.getSpec().ports()).containsExactly(new EgressPort(443, "tcp"));
    }

    @Test
    void httpRouteGroupAndEgressWithMatches() {
        ManifestSet set = readClean("04-http-route-group-and-egress.yaml");
        assertThat(set.resources()).hasSize(2);
        assertThat(set.resources().get(0)).isInstanceOf(HTTPRouteGroup.class);
        assertThat(set.resources().get(1)).isInstanceOf(Egress.class);

        HTTPRouteGroup routes = (HTTPRouteGroup) set.resources().get(0);
        assertThat(routes.getApiVersion()).isEqualTo("specs.smi-spec.io/v1alpha4");
        assertThat(routes.getMetadata().getName()).isEqualTo("egress-http-route");
        assertThat(routes.getMetadata().getNamespace()).isEqualTo("curl");
        assertThat(routes.getSpec().matches()).containsExactly(new HttpMatch("get", "/get", List.of(), Map.of()));

        Egress egress = (Egress) set.resources().get(1);
        assertThat(egress.getMetadata().getName()).isEqualTo("httpbin-80");
        assertThat(egress.getSpec().hosts()).containsExactly("httpbin.org");
        assertThat(egress.getSpec().ports()).containsExactly(new EgressPort(80, "http"));
        assertThat(egress.getSpec().matches())
                .containsExactly(new EgressMatch("specs.smi-spec.io/v1alpha4", "HTTPRouteGroup", "egress-http-route"));
    }

    @Test
    void updatedHttpRouteGroup() {
        HTTPRouteGroup routes = readClean("05-http-route-group-updated.yaml")
                .resourcesOf(HTTPRouteGroup.class)
                .get(0);
        assertThat(routes.getSpec().matches())
                .extracting(HttpMatch::name, HttpMatch::pathRegex)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("get", "/get"),
                        org.assertj.core.groups.Tuple.tuple("status", "/status.*"));
        assertThat(routes.getSpec().matches()).allSatisfy(m -> {
            assertThat(m.methods()).isEmpty();
            assertThat(m.headers()).isEmpty();
        });
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "01-http-egress.yaml",
                "02-https-egress.yaml",
                "03-tcp-egress.yaml",
                "04-http-route-group-and-egress.yaml",
                "05-http-route-group-updated.yaml"
            })
    void roundTripsThroughYaml(String file) {
        List<HasMetadata> original = readClean(file).resources();
        String yaml = writer.writeAll(original);
        ManifestSet again = reader.read(yaml, "written " + file);
        assertThat(again.problems()).isEmpty();
        assertThat(again.resources()).isEqualTo(original);
        assertThat(writer.writeAll(again.resources())).isEqualTo(yaml);
    }

    @Test
    void writtenYamlLooksLikeKubectlOutput() {
        String yaml = writer.write(readClean("01-http-egress.yaml").resources().get(0));
        assertThat(yaml).isEqualTo("""
            apiVersion: policy.flomesh.io/v1alpha1
            kind: Egress
            metadata:
              name: httpbin-80
              namespace: curl
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              hosts:
              - httpbin.org
              ports:
              - number: 80
                protocol: http
            """);
    }

    @Test
    void guideMergePatchEnablesPolicyAndDisablesPassthrough() {
        String patch = TestFiles.resource("guide/meshconfig-merge-patch.json");
        MeshConfig mc = new MeshConfig(MeshConfig.DEFAULT_NAMESPACE, MeshConfig.DEFAULT_NAME, null);
        MeshConfig patched = MergePatch.apply(mc, patch);
        assertThat(patched.getSpec().featureFlags().enableEgressPolicy()).isTrue();
        assertThat(patched.getSpec().traffic().enableEgress()).isFalse();
        assertThat(patched.egressSettings()).isEqualTo(new EgressSettings(true, false));
    }
}
