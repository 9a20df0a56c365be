package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.envoy.ModelWithoutIdentity;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What lets the control plane build once for many identities: the Envoy resources of two identities whose models
 * are equal but for the identity are equal, byte for byte and version for version, because no resource names the
 * identity (Envoy reads it from its node metadata). Each fresh translator here, so no reuse hides a difference.
 */
class EqualModelsGiveEqualResourcesTest {

    private static final ServiceAccountRef FRONT = new ServiceAccountRef("shop", "front");
    private static final ServiceAccountRef BACK = new ServiceAccountRef("billing", "back");
    private static final ServiceAccountRef NOBODY = new ServiceAccountRef("other", "nobody");
    private static final ServiceAccountRef ALSO_NOBODY = new ServiceAccountRef("else", "nobody");

    @Test
    void twoIdentitiesNamedByTheSamePoliciesGetEqualResources() {
        Translation translation = new EgressTranslator().translate(snapshot(), List.of(FRONT, BACK));

        assertThat(ModelWithoutIdentity.of(translation.models().get(BACK)))
                .isEqualTo(ModelWithoutIdentity.of(translation.models().get(FRONT)));
        SidecarResources front = translation.resources().get(FRONT);
        SidecarResources back = translation.resources().get(BACK);
        assertThat(front.routes())
                .as("an HTTP port, so loggers and route tables")
                .isNotEmpty();
        assertThat(back).isEqualTo(front);
        assertThat(back.versions()).isEqualTo(front.versions());
    }

    @Test
    void identitiesNoPolicyNamesGetEqualResources() {
        Translation translation = new EgressTranslator().translate(snapshot(), List.of(NOBODY, ALSO_NOBODY));

        assertThat(translation.resources().get(ALSO_NOBODY))
                .isEqualTo(translation.resources().get(NOBODY));
    }

    @Test
    void anIdentityWithOtherPoliciesGetsOtherResources() {
        Translation translation = new EgressTranslator().translate(snapshot(), List.of(FRONT, NOBODY));

        assertThat(translation.resources().get(NOBODY).version())
                .isNotEqualTo(translation.resources().get(FRONT).version());
    }

    /** One policy naming front and back, on an HTTP and a TCP port. */
    private static ResourceSnapshot snapshot() {
        ManifestSet manifests = new ManifestReader().read("""
                        kind: Egress
                        apiVersion: policy.flomesh.io/v1alpha1
                        metadata:
                          name: httpbin
                          namespace: shop
                        spec:
                          sources:
                          - kind: ServiceAccount
                            name: front
                            namespace: shop
                          - kind: ServiceAccount
                            name: back
                            namespace: billing
                          hosts:
                          - httpbin.org
                          ports:
                          - number: 80
                            protocol: http
                        ---
                        kind: Egress
                        apiVersion: policy.flomesh.io/v1alpha1
                        metadata:
                          name: db
                          namespace: shop
                        spec:
                          sources:
                          - kind: ServiceAccount
                            name: front
                            namespace: shop
                          - kind: ServiceAccount
                            name: back
                            namespace: billing
                          ipAddresses:
                          - 10.0.0.0/24
                          ports:
                          - number: 5432
                            protocol: tcp
                        """, "test");
        assertThat(manifests.problems()).isEmpty();
        return ResourceSnapshot.of(null, manifests.resourcesOf(Egress.class), List.of());
    }
}
