package io.portcullis.crds;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Fields of FSM's Egress that Portcullis does not use still load, and are written back as they were. */
class FsmFieldsTest {

    private static final String WITH_MTLS = """
      kind: Egress
      apiVersion: policy.flomesh.io/v1alpha1
      metadata:
        name: httpbin-443
        namespace: curl
      spec:
        sources:
        - kind: ServiceAccount
          name: curl
          namespace: curl
          mtls:
            issuer: other
            cert:
              sn: 1
              subjectAltNames: [curl.curl.cluster.local]
              expiration: 2030-01-01 00:00:00
              secret: {name: egress-mtls-secret, namespace: curl}
        hosts: [httpbin.org]
        ports: [{number: 443, protocol: https}]
      """;

    @Test
    void sourceMtlsOfFsmLoadsAndRoundTrips() {
        ManifestSet set = new ManifestReader().read(WITH_MTLS, "fsm.yaml");
        assertThat(set.problems()).isEmpty();
        Egress egress = set.resourcesOf(Egress.class).get(0);
        assertThat(egress.getSpec().sources().get(0).mtls())
                .containsKey("issuer")
                .containsKey("cert");

        String written = new ManifestWriter().write(egress);
        assertThat(written).contains("issuer: other").contains("egress-mtls-secret");
        assertThat(new ManifestReader()
                        .read(written, "again")
                        .resourcesOf(Egress.class)
                        .get(0)
                        .getSpec())
                .isEqualTo(egress.getSpec());
    }
}
