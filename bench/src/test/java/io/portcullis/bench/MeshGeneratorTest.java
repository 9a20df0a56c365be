package io.portcullis.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.validation.ValidatedPolicies;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MeshGeneratorTest {

    private static ResourceSnapshot read(Map<String, String> files) {
        ManifestReader reader = new ManifestReader();
        List<Egress> egresses = new ArrayList<>();
        List<HTTPRouteGroup> groups = new ArrayList<>();
        MeshConfig mesh = null;
        for (Map.Entry<String, String> file : files.entrySet()) {
            ManifestSet set = reader.read(file.getValue(), file.getKey());
            assertThat(set.problems()).as(file.getKey()).isEmpty();
            egresses.addAll(set.resourcesOf(Egress.class));
            groups.addAll(set.resourcesOf(HTTPRouteGroup.class));
            mesh = set.resourcesOf(MeshConfig.class).stream().findFirst().orElse(mesh);
        }
        return ResourceSnapshot.of(mesh, egresses, groups);
    }

    @Test
    void everyGeneratedPolicyIsAcceptedAndNamesItsIdentity() {
        MeshShape shape = new MeshShape(10, 2, 80);
        ValidatedPolicies policies = new EgressTranslator().validate(read(MeshGenerator.manifests(shape)));

        assertThat(policies.problems()).isEmpty();
        assertThat(policies.rules()).hasSize(80);
        assertThat(policies.namedIdentities()).hasSize(10);
        assertThat(policies.rulesFor(shape.identity(3))).hasSize(8);
    }

    @Test
    void aNewGenerationOfOnePolicyChangesOnlyItsIdentitysModel() {
        MeshShape shape = new MeshShape(10, 2, 40);
        EgressTranslator translator = new EgressTranslator();
        Map<String, String> files = MeshGenerator.manifests(shape);
        ValidatedPolicies before = translator.validate(read(files));
        for (int p = 0; p < 4; p++) { // one policy of each protocol
            files.put(MeshGenerator.policyFile(p), MeshGenerator.policy(shape, p, 1));
        }
        ValidatedPolicies after = translator.validate(read(files));

        assertThat(after.problems()).isEmpty();
        for (int i = 0; i < shape.identities(); i++) {
            SidecarEgressModel a = translator.model(before, shape.identity(i));
            SidecarEgressModel b = translator.model(after, shape.identity(i));
            if (i < 4) {
                assertThat(b).as("identity %d", i).isNotEqualTo(a);
            } else {
                assertThat(b).as("identity %d", i).isEqualTo(a);
            }
        }
    }

    @Test
    void aNewMeshConfigGenerationChangesTheSampleRateAndNoIdentitysConfig() {
        MeshShape shape = new MeshShape(3, 1, 6);
        EgressTranslator translator = new EgressTranslator();
        Map<String, String> files = MeshGenerator.manifests(shape);
        ValidatedPolicies before = translator.validate(read(files));
        files.put(MeshGenerator.MESH_CONFIG_FILE, MeshGenerator.meshConfig(1));
        ValidatedPolicies after = translator.validate(read(files));

        assertThat(after.mesh().allowedLogPercent()).isNotEqualTo(before.mesh().allowedLogPercent());
        assertThat(MeshGenerator.runtimeLayerVersion(1)).isNotEqualTo(MeshGenerator.runtimeLayerVersion(0));
        for (int i = 0; i < shape.identities(); i++) {
            String a = translator
                    .resources(translator.model(before, shape.identity(i)))
                    .version();
            String b = translator
                    .resources(translator.model(after, shape.identity(i)))
                    .version();
            assertThat(b)
                    .as("identity %d: the rate reaches sidecars over RTDS, not in their config", i)
                    .isEqualTo(a);
        }
    }
}
