package io.portcullis.kubernetes.injection;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequestBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.bootstrap.XdsEndpoint;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.MeshConfigSpec;
import io.portcullis.crds.Traffic;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.SpiffeId;
import io.portcullis.kubernetes.Enrolment;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SidecarInjectorTest {

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final InjectorSettings SETTINGS = new InjectorSettings(
            "fsm",
            "portcullis/portcullis:test",
            "envoyproxy/envoy:v1.40.0",
            List.of(new XdsEndpoint("portcullis-xds.fsm-system.svc", 15010)),
            List.of("10.244.0.0/16", "10.96.0.0/12"),
            SpiffeId.DEFAULT_TRUST_DOMAIN,
            Duration.ofHours(24));

    private final CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
    private final FakeCluster cluster = new FakeCluster();
    private final SidecarInjector injector =
            new SidecarInjector(SETTINGS, new SidecarSecrets(ca, SETTINGS, Clock.systemUTC()), cluster);

    @Test
    void podOfAnEnrolledNamespaceGetsTheInitContainerFirstTheEnvoyContainerAndBothVolumes() throws Exception {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        Pod pod = pod("curl", "curl", Map.of());
        pod.getSpec().setInitContainers(List.of(new Container()));
        pod.getSpec().getInitContainers().get(0).setName("app-init");

        Pod injected = applied(pod, injector.review(create(pod)));

        assertThat(injected.getSpec().getInitContainers())
                .extracting(Container::getName)
                .containsExactly(SidecarTemplate.INIT_CONTAINER, "app-init");
        Container init = injected.getSpec().getInitContainers().get(0);
        assertThat(init.getImage()).isEqualTo("portcullis/portcullis:test");
        assertThat(init.getSecurityContext().getRunAsUser()).isZero();
        assertThat(init.getSecurityContext().getCapabilities().getAdd()).containsExactly("NET_ADMIN", "NET_RAW");
        String script = init.getCommand().get(2);
        assertThat(script)
                .startsWith("set -eu\n")
                .contains("portcullis bootstrap -n curl --service-account curl --pod \"$POD_NAME\""
                        + " --xds-host portcullis-xds.fsm-system.svc:15010 --cert-dir /var/run/portcullis/certs"
                        + " -o /var/run/portcullis/bootstrap/envoy.yaml")
                .contains("rules=$(portcullis iptables --proxy-uid " + SidecarContract.DEFAULT_PROXY_UID
                        + " --exclude-cidr 10.244.0.0/16 --exclude-cidr 10.96.0.0/12)")
                .contains("| iptables-restore --noflush", "--family ipv6)", "| ip6tables-restore --noflush");
        assertThat(init.getEnv().get(0).getValueFrom().getFieldRef().getFieldPath())
                .isEqualTo("metadata.name");

        assertThat(injected.getSpec().getContainers())
                .extracting(Container::getName)
                .containsExactly("curl", SidecarTemplate.SIDECAR_CONTAINER);
        Container envoy = injected.getSpec().getContainers().get(1);
        assertThat(envoy.getCommand()).containsExactly("envoy");
        assertThat(envoy.getArgs())
                .isEqualTo(SidecarBootstrap.envoyArguments("/var/run/portcullis/bootstrap/envoy.yaml"))
                .contains("--drain-strategy", "immediate");
        assertThat(envoy.getSecurityContext().getRunAsUser()).isEqualTo(1337L);
        assertThat(envoy.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(envoy.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
        assertThat(envoy.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(SidecarContract.HEALTH_PORT);
        assertThat(envoy.getLivenessProbe().getTcpSocket().getPort().getIntVal())
                .isEqualTo(SidecarContract.HEALTH_PORT);
        assertThat(envoy.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(envoy.getVolumeMounts())
                .allSatisfy(mount -> assertThat(mount.getReadOnly()).isTrue())
                .extracting(m -> m.getMountPath())
                .containsExactly("/var/run/portcullis/bootstrap", "/var/run/portcullis/certs");

        assertThat(injected.getSpec().getVolumes())
                .extracting(v -> v.getName())
                .containsExactly("kube-api-access", "portcullis-bootstrap", "portcullis-certs");
        assertThat(injected.getSpec().getVolumes().get(2).getSecret().getSecretName())
                .isEqualTo("portcullis-sidecar-curl");
    }

    @Test
    void theCertificateSecretHoldsTheServiceAccountsSvidFromTheCaAndTheSdsFilesOfTheMountedDirectory()
            throws Exception {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        injector.review(create(pod("curl", "curl", Map.of())));

        Secret secret = cluster.secrets.get("curl/portcullis-sidecar-curl");
        assertThat(secret).as("the Secret the pod mounts").isNotNull();
        assertThat(secret.getData())
                .containsOnlyKeys(
                        CertificateDirectory.CERTIFICATE_CHAIN,
                        CertificateDirectory.PRIVATE_KEY,
                        CertificateDirectory.TRUST_BUNDLE,
                        CertificateDirectory.TLS_CERTIFICATE_SDS,
                        CertificateDirectory.VALIDATION_CONTEXT_SDS);
        X509Certificate certificate = certificate(secret);
        certificate.verify(ca.certificate().getPublicKey());
        assertThat(SpiffeId.fromCertificate(certificate).uri()).isEqualTo("spiffe://cluster.local/ns/curl/sa/curl");
        assertThat(decode(secret, CertificateDirectory.TRUST_BUNDLE)).isEqualTo(ca.certificatePem());
        assertThat(decode(secret, CertificateDirectory.TLS_CERTIFICATE_SDS))
                .contains("/var/run/portcullis/certs/cert-chain.pem", "/var/run/portcullis/certs/key.pem");
    }

    @Test
    void aSecretStillGoodIsKeptAndOneFromAnotherCaIsReplaced() throws Exception {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        injector.review(create(pod("curl", "curl", Map.of())));
        Secret first = cluster.secrets.get("curl/portcullis-sidecar-curl");
        injector.review(create(pod("curl", "curl", Map.of())));
        assertThat(cluster.stores)
                .as("a second pod of the same ServiceAccount reuses the Secret")
                .isEqualTo(1);

        CertificateAuthority rotated = CertificateAuthority.generate(Clock.systemUTC());
        new SidecarInjector(SETTINGS, new SidecarSecrets(rotated, SETTINGS, Clock.systemUTC()), cluster)
                .review(create(pod("curl", "curl", Map.of())));
        assertThat(cluster.stores).isEqualTo(2);
        assertThat(certificate(cluster.secrets.get("curl/portcullis-sidecar-curl")))
                .isNotEqualTo(certificate(first));
    }

    @Test
    void aPodThatAlreadyHasTheSidecarIsNotPatchedTwice() throws Exception {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        Pod injected = applied(pod("curl", "curl", Map.of()), injector.review(create(pod("curl", "curl", Map.of()))));

        AdmissionResponse again = injector.review(create(injected));

        assertThat(again.getAllowed()).isTrue();
        assertThat(again.getPatch()).isNull();
    }

    @Test
    void aPodAnnotatedDisabledInAnEnrolledNamespaceIsAllowedUntouched() {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        AdmissionResponse response = injector.review(
                create(pod("curl", "curl", Map.of(Enrolment.SIDECAR_INJECTION_ANNOTATION, "disabled"))));
        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getPatch()).isNull();
        assertThat(cluster.secrets).isEmpty();
    }

    @Test
    void podsOfNamespacesNotEnrolledWithInjectionOffOrOfAnotherMeshAreAllowedUntouched() {
        cluster.namespaces.put(
                "plain",
                new NamespaceBuilder()
                        .withNewMetadata()
                        .withName("plain")
                        .endMetadata()
                        .build());
        cluster.namespaces.put("off", enrolled("off", Enrolment.DISABLED));
        Namespace other = enrolled("other", Enrolment.ENABLED);
        other.getMetadata().getLabels().put(Enrolment.MONITORED_BY_LABEL, "another-mesh");
        cluster.namespaces.put("other", other);
        for (String ns : List.of("plain", "off", "other", "missing")) {
            AdmissionResponse response = injector.review(create(pod(ns, "default", Map.of())));
            assertThat(response.getAllowed()).as(ns).isTrue();
            assertThat(response.getPatch()).as(ns).isNull();
        }
        assertThat(cluster.secrets).isEmpty();
    }

    @Test
    void aPodOnTheHostNetworkNeverGetsASidecar() {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        Pod pod = pod("curl", "curl", Map.of(Enrolment.SIDECAR_INJECTION_ANNOTATION, "enabled"));
        pod.getSpec().setHostNetwork(true);
        assertThat(injector.review(create(pod)).getPatch()).isNull();
    }

    @Test
    void anInjectionAnnotationFsmWouldNotAcceptEitherRefusesThePodNamingItAndTheValues() {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        AdmissionResponse response =
                injector.review(create(pod("curl", "curl", Map.of(Enrolment.SIDECAR_INJECTION_ANNOTATION, "off"))));
        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage())
                .isEqualTo("Pod curl/curl-1 has annotation flomesh.io/sidecar-injection: \"off\";"
                        + " use \"enabled\" or \"disabled\"");
    }

    @Test
    void meshConfigExclusionsAreAddedAndUnusableEntriesAreLeftOutWithAWarningNamingTheField() throws Exception {
        cluster.namespaces.put("curl", enrolled("curl", Enrolment.ENABLED));
        cluster.meshConfig = new MeshConfig(
                MeshConfig.DEFAULT_NAMESPACE,
                MeshConfig.DEFAULT_NAME,
                new MeshConfigSpec(
                        null,
                        new Traffic(
                                false,
                                Map.of(
                                        "outboundIPRangeExclusionList",
                                        List.of("192.168.7.0/24", "10.0.0.1/8", "fd00::/8"),
                                        "outboundPortExclusionList",
                                        List.of(8443, 70000)))));

        AdmissionResponse response = injector.review(create(pod("curl", "curl", Map.of())));
        Pod injected = applied(pod("curl", "curl", Map.of()), response);

        assertThat(injected.getSpec().getInitContainers().get(0).getCommand().get(2))
                .contains("--exclude-cidr 10.96.0.0/12 --exclude-cidr 192.168.7.0/24 --exclude-port 8443)");
        assertThat(response.getWarnings())
                .hasSize(3)
                .anySatisfy(w -> assertThat(w)
                        .startsWith(
                                "MeshConfig fsm-system/fsm-mesh-config spec.traffic.outboundIPRangeExclusionList[1]:")
                        .contains("host bits"))
                .anySatisfy(w -> assertThat(w).contains("outboundIPRangeExclusionList[2]", "IPv6"))
                .anySatisfy(w -> assertThat(w).contains("outboundPortExclusionList[1]: 70000"));
    }

    @Test
    void aPodIsRefusedWhenTheApiServerCannotBeReadRatherThanStartedWithoutItsSidecar() {
        InjectorCluster unreachable = new FakeCluster() {
            @Override
            public Optional<Namespace> namespace(String name) {
                throw new io.fabric8.kubernetes.client.KubernetesClientException("namespaces \"curl\" is forbidden");
            }
        };
        AdmissionResponse response = new SidecarInjector(
                        SETTINGS, new SidecarSecrets(ca, SETTINGS, Clock.systemUTC()), unreachable)
                .review(create(pod("curl", "curl", Map.of())));
        assertThat(response.getAllowed()).isFalse();
        assertThat(response.getStatus().getMessage())
                .startsWith("the sidecar injector cannot read from the API server: namespaces \"curl\" is forbidden");
    }

    // ---------------------------------------------------------------- helpers

    static Namespace enrolled(String name, String injection) {
        return new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels(Enrolment.MONITORED_BY_LABEL, "fsm")
                .addToAnnotations(Enrolment.SIDECAR_INJECTION_ANNOTATION, injection)
                .endMetadata()
                .build();
    }

    static Pod pod(String namespace, String serviceAccount, Map<String, String> annotations) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(serviceAccount + "-1")
                .withNamespace(namespace)
                .withAnnotations(annotations.isEmpty() ? null : new HashMap<>(annotations))
                .endMetadata()
                .withNewSpec()
                .withServiceAccountName(serviceAccount)
                .addNewContainer()
                .withName("curl")
                .withImage("curlimages/curl")
                .endContainer()
                .addNewVolume()
                .withName("kube-api-access")
                .withNewEmptyDir()
                .endEmptyDir()
                .endVolume()
                .endSpec()
                .build();
    }

    static AdmissionRequest create(Pod pod) {
        return new AdmissionRequestBuilder()
                .withUid("uid-1")
                .withOperation("CREATE")
                .withNamespace(pod.getMetadata().getNamespace())
                .withObject(pod)
                .build();
    }

    /** Applies the response's JSON patch (the "add" operations the injector uses) to the pod. */
    static Pod applied(Pod pod, AdmissionResponse response) throws Exception {
        assertThat(response.getAllowed()).isTrue();
        assertThat(response.getPatchType()).isEqualTo("JSONPatch");
        ObjectNode doc = (ObjectNode) JSON.readTree(SERIALIZATION.asJson(pod));
        for (JsonNode op : JSON.readTree(Base64.getDecoder().decode(response.getPatch()))) {
            assertThat(op.get("op").asText()).isEqualTo("add");
            String path = op.get("path").asText();
            int slash = path.lastIndexOf('/');
            JsonNode parent = doc.at(path.substring(0, slash));
            String key = path.substring(slash + 1);
            if (parent instanceof ArrayNode array) {
                if (key.equals("-")) {
                    array.add(op.get("value"));
                } else {
                    array.insert(Integer.parseInt(key), op.get("value"));
                }
            } else {
                assertThat(parent.has(key))
                        .as("add %s over an existing member", path)
                        .isFalse();
                ((ObjectNode) parent).set(key, op.get("value"));
            }
        }
        return SERIALIZATION.unmarshal(doc.toString(), Pod.class);
    }

    private static X509Certificate certificate(Secret secret) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(
                        decode(secret, CertificateDirectory.CERTIFICATE_CHAIN).getBytes(StandardCharsets.US_ASCII)));
    }

    private static String decode(Secret secret, String key) {
        return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }

    static class FakeCluster implements InjectorCluster {
        final Map<String, Namespace> namespaces = new HashMap<>();
        final Map<String, Secret> secrets = new HashMap<>();
        MeshConfig meshConfig;
        int stores;

        @Override
        public Optional<Namespace> namespace(String name) {
            return Optional.ofNullable(namespaces.get(name));
        }

        @Override
        public Optional<MeshConfig> meshConfig() {
            return Optional.ofNullable(meshConfig);
        }

        @Override
        public Optional<Secret> secret(String namespace, String name) {
            return Optional.ofNullable(secrets.get(namespace + "/" + name));
        }

        @Override
        public void store(Secret secret) {
            stores++;
            secrets.put(
                    secret.getMetadata().getNamespace() + "/"
                            + secret.getMetadata().getName(),
                    secret);
        }
    }
}
