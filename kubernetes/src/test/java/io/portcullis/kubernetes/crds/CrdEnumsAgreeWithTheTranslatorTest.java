package io.portcullis.kubernetes.crds;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.validation.EgressProtocol;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Egress CRD (generated from the crds model) and the translator each hold the list of protocols: a protocol
 * the API server stores must be one the translator enforces, and one the translator enforces must be storable.
 */
class CrdEnumsAgreeWithTheTranslatorTest {

    @Test
    void theCrdsProtocolEnumIsExactlyTheTranslatorsProtocols() throws IOException {
        JSONSchemaProps port =
                egressSpec().getProperties().get("ports").getItems().getSchema();

        List<String> crd = port.getProperties().get("protocol").getEnum().stream()
                .map(v -> v.asText())
                .toList();

        assertThat(crd)
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(EgressProtocol.values())
                        .map(EgressProtocol::wireName)
                        .toList());
    }

    @Test
    void theOnlySourceKindTheCrdStoresIsServiceAccountTheOneKindTheTranslatorAccepts() throws IOException {
        JSONSchemaProps source =
                egressSpec().getProperties().get("sources").getItems().getSchema();

        assertThat(source.getProperties().get("kind").getEnum())
                .extracting(v -> v.asText())
                .containsExactly("ServiceAccount");
    }

    private static JSONSchemaProps egressSpec() throws IOException {
        try (InputStream in = Files.newInputStream(
                KubeApiServer.deployDirectory().resolve("crds/egresses.policy.flomesh.io-v1.yml"))) {
            CustomResourceDefinition crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
            return crd.getSpec()
                    .getVersions()
                    .get(0)
                    .getSchema()
                    .getOpenAPIV3Schema()
                    .getProperties()
                    .get("spec");
        }
    }
}
