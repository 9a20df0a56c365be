package io.portcullis.crds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void crdCoordinates() {
        assertThat(HasMetadata.getApiVersion(Egress.class)).isEqualTo("policy.flomesh.io/v1alpha1");
        assertThat(HasMetadata.getPlural(Egress.class)).isEqualTo("egresses");
        assertThat(HasMetadata.getApiVersion(HTTPRouteGroup.class)).isEqualTo("specs.smi-spec.io/v1alpha4");
        assertThat(HasMetadata.getPlural(HTTPRouteGroup.class)).isEqualTo("httproutegroups");
        assertThat(HasMetadata.getApiVersion(MeshConfig.class)).isEqualTo("config.flomesh.io/v1alpha3");
        assertThat(HasMetadata.getPlural(MeshConfig.class)).isEqualTo("meshconfigs");
        assertThat(new Egress().getKind()).isEqualTo("Egress");
        assertThat(MeshConfig.DEFAULT_NAME).isEqualTo("fsm-mesh-config");
    }

    @Test
    void nullListsBecomeEmptyImmutableCopies() {
        EgressSpec spec = new EgressSpec(null, null, null, null, null);
        assertThat(spec.sources()).isEmpty();
        assertThat(spec.hosts()).isEmpty();
        assertThat(spec.ipAddresses()).isEmpty();
        assertThat(spec.ports()).isEmpty();
        assertThat(spec.matches()).isEmpty();

        List<String> hosts = new ArrayList<>(List.of("a.example"));
        EgressSpec copy = new EgressSpec(null, hosts, null, null, null);
        hosts.add("b.example");
        assertThat(copy.hosts()).containsExactly("a.example");
        assertThatThrownBy(() -> copy.hosts().add("c")).isInstanceOf(UnsupportedOperationException.class);

        assertThat(new HTTPRouteGroupSpec(null).matches()).isEmpty();
        HttpMatch match = new HttpMatch("m", null, null, null);
        assertThat(match.methods()).isEmpty();
        assertThat(match.headers()).isEmpty();
    }

    @Test
    void headersKeepInsertionOrderAndAreUnmodifiable() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("z", "1");
        headers.put("a", "2");
        headers.put("m", "3");
        HttpMatch match = new HttpMatch("m", "/", List.of("GET"), headers);
        headers.put("late", "x");
        assertThat(match.headers().keySet()).containsExactly("z", "a", "m");
        assertThatThrownBy(() -> match.headers().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void recordsRoundTripThroughPlainJackson() throws Exception {
        EgressSpec spec = new EgressSpec(
                List.of(new EgressSource("ServiceAccount", "curl", "curl")),
                List.of(),
                List.of("10.0.0.0/8"),
                List.of(new EgressPort(443, "tcp")),
                null);
        String text = json.writeValueAsString(spec);
        assertThat(text)
                .isEqualTo("{\"sources\":[{\"kind\":\"ServiceAccount\",\"name\":\"curl\",\"namespace\":\"curl\"}],"
                        + "\"ipAddresses\":[\"10.0.0.0/8\"],\"ports\":[{\"number\":443,\"protocol\":\"tcp\"}]}");
        assertThat(json.readValue(text, EgressSpec.class)).isEqualTo(spec);
        // plain Jackson is lenient: unknown fields are ignored (ManifestReader is the strict one)
        assertThat(json.readValue("{\"mtls\":{},\"hosts\":[\"h\"]}", EgressSpec.class)
                        .hosts())
                .containsExactly("h");

        MeshConfigSpec mc = new MeshConfigSpec(new FeatureFlags(true), new Traffic(false));
        String mcText = json.writeValueAsString(mc);
        assertThat(mcText)
                .isEqualTo("{\"featureFlags\":{\"enableEgressPolicy\":true},\"traffic\":{\"enableEgress\":false}}");
        assertThat(json.readValue(mcText, MeshConfigSpec.class)).isEqualTo(mc);
    }

    @Test
    void meshConfigUnknownFieldsAreKeptInOrder() throws Exception {
        String text = "{\"sidecar\":{\"logLevel\":\"error\"},\"featureFlags\":{\"enableRetryPolicy\":true,"
                + "\"enableEgressPolicy\":false},\"traffic\":{\"enableEgress\":true,\"x\":[1]},\"z\":1}";
        MeshConfigSpec spec = json.readValue(text, MeshConfigSpec.class);
        assertThat(spec.featureFlags()).isEqualTo(new FeatureFlags(false, Map.of("enableRetryPolicy", true)));
        assertThat(spec.traffic().enableEgress()).isTrue();
        assertThat(spec.otherFields().keySet()).containsExactly("sidecar", "z");
        assertThat(json.readTree(json.writeValueAsString(spec))).isEqualTo(json.readTree(text));
    }

    @Test
    void egressSettingsDefaultToEnforcedWithoutPassthrough() {
        assertThat(EgressSettings.DEFAULTS).isEqualTo(new EgressSettings(true, false));
        assertThat(new MeshConfig().egressSettings()).isEqualTo(EgressSettings.DEFAULTS);
        assertThat(new MeshConfigSpec(null, null).egressSettings()).isEqualTo(EgressSettings.DEFAULTS);
        assertThat(new MeshConfigSpec(new FeatureFlags(null), new Traffic(null)).egressSettings())
                .isEqualTo(EgressSettings.DEFAULTS);
        assertThat(new MeshConfigSpec(new FeatureFlags(false), null).egressSettings())
                .isEqualTo(new EgressSettings(false, false));
        assertThat(new MeshConfigSpec(null, new Traffic(true)).egressSettings())
                .isEqualTo(new EgressSettings(true, true));
    }
}
