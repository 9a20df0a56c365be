package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** What {@code portcullis translate} prints reads back, with a YAML 1.1 reader, as the same strings. */
class TranslationReportTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");

    @Test
    @SuppressWarnings("unchecked")
    void serverNamesThatLookLikeNumbersReadBackAsStrings() {
        List<String> names = List.of("0x10", "123", "017", "1e5", "0b101", "true", "null", "2001-12-14");
        String yaml = TranslationReport.toYaml(new EgressTranslator().translate(snapshot(names), List.of(CURL)));

        Map<String, Object> report = new Yaml().load(yaml);
        assertThat((List<Object>) report.get("problems"))
                .as("the hosts are valid")
                .isEmpty();
        Map<?, ?> identity = (Map<?, ?>) ((Map<?, ?>) report.get("identities")).get("curl/curl");
        Map<?, ?> port = (Map<?, ?>) ((List<?>) ((Map<?, ?>) identity.get("model")).get("ports")).get(0);
        assertThat((List<Object>) port.get("tlsHosts")).as(yaml).containsExactlyInAnyOrderElementsOf(names);
        Map<?, ?> listener = (Map<?, ?>) ((List<?>) ((Map<?, ?>) identity.get("xds")).get("listeners")).get(0);
        Map<?, ?> match =
                (Map<?, ?>) ((Map<?, ?>) ((List<?>) listener.get("filterChains")).get(0)).get("filterChainMatch");
        assertThat((List<Object>) match.get("serverNames")).containsExactlyInAnyOrderElementsOf(names);
        assertThat(((Map<?, ?>) identity.get("xds")).get("version")).isInstanceOf(String.class);
    }

    @Test
    void ordinaryStringsStayUnquoted() {
        String yaml = TranslationReport.toYaml(
                new EgressTranslator().translate(snapshot(List.of("httpbin.org")), List.of(CURL)));

        assertThat(yaml)
                .contains("- httpbin.org\n")
                .contains("namespace: curl\n")
                .doesNotContain("\"httpbin.org\"");
    }

    private static ResourceSnapshot snapshot(List<String> hosts) {
        ManifestSet manifests = new ManifestReader()
                .read("""
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata:
                  name: tls
                  namespace: curl
                spec:
                  sources:
                  - kind: ServiceAccount
                    name: curl
                    namespace: curl
                  hosts: %s
                  ports:
                  - number: 443
                    protocol: https
                """.formatted(hosts.stream().map(h -> "\"" + h + "\"").toList()), "test");
        assertThat(manifests.problems()).isEmpty();
        return ResourceSnapshot.of(null, manifests.resourcesOf(Egress.class), List.of());
    }
}
