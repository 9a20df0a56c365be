package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.bootstrap.XdsEndpoint;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.SpiffeId;
import io.portcullis.kubernetes.Enrolment;
import io.portcullis.kubernetes.injection.InjectorSettings;
import io.portcullis.kubernetes.injection.SidecarInjector;
import io.portcullis.kubernetes.injection.SidecarTemplate;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.WebhookTestServer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The injected spec works, not only exists: a pod created with {@code kubectl} in a namespace enrolled with
 * {@code portcullis namespace add} is read back as the API server stored it (after the injector), and
 * {@link StoredPodRunner} runs that spec's init container and Envoy container in the lab's pod namespace.
 * From that pod, an allowed destination is reached through the sidecar, a denied one is refused, and an
 * address the MeshConfig excludes as cluster-internal is reached directly, bypassing the sidecar.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InjectedSidecarIT {

    private static final String POD_NAME = "curl-7d9f8c-x2k4q";
    /** Cluster-internal for this test: the MeshConfig's outboundIPRangeExclusionList names it. */
    private static final String EXCLUDED_IP = NetworkLab.IMPOSTOR_IP;

    private LabWorkspace workspace;
    private ControlPlaneProcess controlPlane;
    private KubeApiServer apiServer;
    private WebhookTestServer webhook;
    private StoredPodRunner.RunningSidecar sidecar;
    private io.fabric8.kubernetes.api.model.Pod stored;
    private Pod pod;

    @BeforeAll
    void start() throws Exception {
        workspace = LabWorkspace.open("inject");
        PortcullisCli cli = workspace.cli();
        controlPlane = new ControlPlaneProcess(cli, workspace.workDir().resolve("control-plane.log")).awaitHealthy();
        cli.patchMeshConfig(Manifests.ENABLE_EGRESS_POLICY);
        cli.apply(Manifests.HTTPBIN_80);

        apiServer = KubeApiServer.start();
        apiServer.installCrds();
        KubernetesClient client = apiServer.client();
        kubectl("", "create", "namespace", "fsm-system");
        kubectl("""
                apiVersion: config.flomesh.io/v1alpha3
                kind: MeshConfig
                metadata:
                  name: fsm-mesh-config
                  namespace: fsm-system
                spec:
                  traffic:
                    outboundIPRangeExclusionList: ["%s/32"]
                """.formatted(EXCLUDED_IP), "apply", "-f", "-");

        // The injector signs with the control plane's own CA, as it would inside the control plane.
        CertificateAuthority ca = CertificateAuthority.inDirectory(cli.caDir(), Clock.systemUTC());
        InjectorSettings settings = new InjectorSettings(
                Enrolment.DEFAULT_MESH_NAME,
                "portcullis/portcullis:test",
                "envoyproxy/envoy:v1.40.0",
                List.of(XdsEndpoint.parse(controlPlane.xdsEndpoint(), ControlPlaneProcess.XDS_PORT)),
                List.of("10.96.0.0/12"),
                SpiffeId.DEFAULT_TRUST_DOMAIN,
                Duration.ofHours(1));
        SidecarInjector injector = SidecarInjector.on(client, ca, settings);
        webhook = WebhookTestServer.start(ca, Map.of("/inject", injector));
        webhook.registerInjector(client, Enrolment.DEFAULT_MESH_NAME);

        kubectl("", "create", "namespace", "curl");
        kubectl("", "create", "serviceaccount", "curl", "-n", "curl");
        assertThat(cli.run(
                                null,
                                "namespace",
                                "add",
                                "curl",
                                "--kubeconfig",
                                apiServer.kubeconfig().toString())
                        .stdout())
                .contains("Namespace [curl] successfully added to mesh [fsm]");
        kubectl("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: curl
                spec:
                  serviceAccountName: curl
                  containers:
                  - name: curl
                    image: curlimages/curl
                    command: [sleep, infinity]
                """.formatted(POD_NAME), "create", "-f", "-");
        stored = client.pods().inNamespace("curl").withName(POD_NAME).get();

        sidecar = new StoredPodRunner(client, cli, workspace.workDir()).start(stored, "pcl-curl");
        pod = new Pod("pcl-curl", "curl", "curl", POD_NAME, workspace.lab().caCertificate());
        await("the stored pod's sidecar is connected and has its identity's current config")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    assertThat(sidecar.alive())
                            .as("Envoy exited:%n%s", sidecar.logText())
                            .isTrue();
                    for (JsonNode s : controlPlane.sidecars()) {
                        if (s.toString().contains(pod.sidecarNodeId())
                                && s.get("upToDate").asBoolean()) {
                            return true;
                        }
                    }
                    return false;
                });
    }

    @AfterAll
    void stop() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (webhook != null) {
            webhook.close();
        }
        if (apiServer != null) {
            apiServer.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        if (workspace != null) {
            workspace.lab().close();
        }
    }

    @Test
    void theApiServerStoredThePodWithTheInjectedInitAndEnvoyContainers() {
        assertThat(stored.getSpec().getInitContainers())
                .extracting(Container::getName)
                .containsExactly(SidecarTemplate.INIT_CONTAINER);
        assertThat(stored.getSpec().getContainers())
                .extracting(Container::getName)
                .containsExactly("curl", SidecarTemplate.SIDECAR_CONTAINER);
        assertThat(stored.getSpec().getInitContainers().get(0).getCommand().get(2))
                .contains("--exclude-cidr " + EXCLUDED_IP + "/32");
    }

    @Test
    void theSidecarAnswersTheKubeletsReadinessProbeOnThePodAddress() {
        ProcessRun probe = ProcessRun.run(
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "4",
                "http://198.18.0.101:" + SidecarContract.HEALTH_PORT + SidecarContract.READINESS_PATH);
        assertThat(probe.stdout())
                .as("GET /ready from outside the pod: %s", probe.stderr())
                .isEqualTo("200");
    }

    @Test
    void anAllowedDestinationIsReachedThroughTheSidecar() {
        Pod.CurlResult result = pod.curl("http://httpbin.org:80/get");
        assertThat(result.ok()).as("%s%n%s", result, sidecar.logText()).isTrue();
    }

    @Test
    void aDeniedDestinationIsRefusedAndTheSidecarLogsIt() {
        Pod.CurlResult result = pod.curl("https://flomesh.io:443");
        assertThat(result.denied()).as(result.toString()).isTrue();
        await("the sidecar logs the denial")
                .atMost(Duration.ofSeconds(10))
                .until(() -> sidecar.logText()
                        .lines()
                        .anyMatch(line -> line.contains("\"decision\":\"deny\"")
                                && line.contains("\"identity\":\"curl/curl\"")
                                && line.contains("\"destination\":\"198.18.0.81:443\"")));
    }

    @Test
    void anAddressTheMeshConfigExcludesAsClusterInternalBypassesTheSidecar() throws Exception {
        long before = workspace.lab().impostorLog().lines().count();
        Pod.CurlResult result = pod.curl("http://" + EXCLUDED_IP + "/");
        assertThat(result.body().strip())
                .as("%s: the server at the excluded address answered itself", result)
                .isEqualTo("impostor");
        assertThat(workspace.lab().impostorLog().lines().count())
                .as("the connection reached the excluded address directly")
                .isGreaterThan(before);
    }

    private void kubectl(String stdin, String... args) {
        KubectlResult result = apiServer.kubectlWithStdin(stdin, args);
        assertThat(result.exitCode())
                .as("kubectl %s: %s", String.join(" ", args), result.stderr())
                .isZero();
    }
}
