package io.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EnrolmentTest {

    @Test
    void addAndRemovePatchesAreFsmsOwn() {
        assertThat(Serialization.asJson(Enrolment.addPatch("fsm", false)))
                .isEqualTo("{\"metadata\":{\"labels\":{\"flomesh.io/monitored-by\":\"fsm\"},"
                        + "\"annotations\":{\"flomesh.io/sidecar-injection\":\"enabled\"}}}");
        assertThat(Serialization.asJson(Enrolment.addPatch("fsm", true))).contains("\"disabled\"");
        assertThat(Enrolment.removePatchJson())
                .isEqualTo("{\"metadata\":{\"labels\":{\"flomesh.io/monitored-by\":null,\"flomesh.io/ignore\":null},"
                        + "\"annotations\":{\"flomesh.io/sidecar-injection\":null,\"flomesh.io/metrics\":null}}}");
    }

    /** FSM's decision table (pkg/injector/webhook.go mustPodInject), for a namespace enrolled in mesh fsm. */
    @ParameterizedTest(name = "namespace {0}, pod {1} -> {2}")
    @CsvSource({
        "enabled,  ,         true",
        "enabled,  disabled, false",
        "enabled,  No,       false",
        "enabled,  enabled,  true",
        "disabled, ,         false",
        "disabled, enabled,  true",
        ",         ,         false",
        ",         yes,      true",
        "TRUE,     ,         true",
    })
    void injectsLikeFsm(String namespaceAnnotation, String podAnnotation, boolean inject) {
        assertThat(Enrolment.decide(namespace("curl", "fsm", namespaceAnnotation), pod(podAnnotation), "fsm")
                        .inject())
                .isEqualTo(inject);
    }

    @Test
    void neverInjectsOutsideTheMeshInSystemNamespacesOrTheControlPlanes() {
        assertThat(Enrolment.decide(namespace("curl", "other", "enabled"), pod(null), "fsm")
                        .inject())
                .isFalse();
        assertThat(Enrolment.decide(namespace("curl", null, "enabled"), pod(null), "fsm")
                        .inject())
                .isFalse();
        for (String ns : new String[] {"kube-system", "kube-public", "fsm-system"}) {
            assertThat(Enrolment.decide(namespace(ns, "fsm", "enabled"), pod("enabled"), "fsm")
                            .inject())
                    .as(ns)
                    .isFalse();
        }
    }

    @Test
    void listShowsTheInjectionAnnotationOrDashOrIgnored() {
        assertThat(Enrolment.injectionColumn(namespace("a", "fsm", "enabled"))).isEqualTo("enabled");
        assertThat(Enrolment.injectionColumn(namespace("a", "fsm", null))).isEqualTo("-");
        Namespace ignored = namespace("a", "fsm", "enabled");
        ignored.getMetadata().getLabels().put(Enrolment.IGNORE_LABEL, "true");
        assertThat(Enrolment.injectionColumn(ignored)).isEqualTo("disabled (ignored)");
    }

    private static Namespace namespace(String name, String mesh, String injection) {
        NamespaceBuilder ns =
                new NamespaceBuilder().withNewMetadata().withName(name).endMetadata();
        Namespace namespace = ns.build();
        namespace.getMetadata().setLabels(new java.util.HashMap<>());
        namespace.getMetadata().setAnnotations(new java.util.HashMap<>());
        if (mesh != null) {
            namespace.getMetadata().getLabels().put(Enrolment.MONITORED_BY_LABEL, mesh);
        }
        if (injection != null) {
            namespace.getMetadata().getAnnotations().put(Enrolment.SIDECAR_INJECTION_ANNOTATION, injection);
        }
        return namespace;
    }

    private static Pod pod(String injection) {
        return new PodBuilder()
                .withNewMetadata()
                .withName("p")
                .withAnnotations(injection == null ? null : Map.of(Enrolment.SIDECAR_INJECTION_ANNOTATION, injection))
                .endMetadata()
                .withNewSpec()
                .endSpec()
                .build();
    }
}
