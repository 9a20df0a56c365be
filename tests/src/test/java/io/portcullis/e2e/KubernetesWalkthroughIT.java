package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.portcullis.kubernetes.injection.SidecarTemplate;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The guide's walkthrough ({@link GuideWalkthrough}) with the Kubernetes source: a real kube-apiserver
 * and etcd with our CRDs, {@code fsm-system} and its {@code fsm-mesh-config} as an install creates them,
 * the {@code curl} namespace enrolled with {@code portcullis namespace add}, {@code portcullis serve
 * --kubeconfig} as the control plane (config source, status, admission webhooks, sidecar injector), every
 * step done with the real kubectl exactly as the guide writes it, and each sidecar started from the Pod
 * spec the API server stored after our injector patched it ({@link StoredPodRunner} plays kubelet).
 */
@NeedsKubeApiServer
class KubernetesWalkthroughIT extends GuideWalkthrough {

    /**
     * fsm-system and the default fsm-mesh-config, from the portcullis-kubernetes test-jar: the same file
     * the kubernetes module's tests install.
     */
    static final String FSM_MESH_CONFIG = "/fsm-mesh-config.yaml";

    private KubeApiServer server;
    private StoredPodRunner runner;
    private Kubectl kubectl;

    @Override
    GuideCommands guide() {
        return kubectl;
    }

    @Override
    ControlPlaneProcess startControlPlane(LabWorkspace workspace) throws Exception {
        server = KubeApiServer.start();
        kubectl = new Kubectl(server);
        server.installCrds();
        say("kubectl apply -f fsm-mesh-config.yaml: "
                + kubectl.apply(resource(FSM_MESH_CONFIG)).replace('\n', ' '));
        // The guide: kubectl create namespace curl; fsm namespace add curl, here portcullis namespace add.
        server.kubectl("create", "namespace", "curl").orThrow();
        ProcessRun enrol = workspace
                .cli()
                .run(
                        null,
                        "namespace",
                        "add",
                        "curl",
                        "--kubeconfig",
                        server.kubeconfig().toString());
        say("portcullis namespace add curl: " + enrol.stdout().strip());
        assertThat(enrol.exitCode()).as(enrol.stderr()).isZero();
        assertThat(server.kubectl("get", "namespace", "curl", "-o", "jsonpath={.metadata.labels}")
                        .orThrow())
                .contains("\"flomesh.io/monitored-by\":\"fsm\"");
        // The pods' ServiceAccounts (no controller creates them on a bare API server) and the injector's
        // webhook configuration as deploy/ has it, but dialled by URL: serve puts its CA into caBundle.
        server.kubectl("create", "serviceaccount", "curl", "-n", "curl").orThrow();
        server.kubectl("create", "serviceaccount", "sleep", "-n", "curl").orThrow();
        int webhookPort = ControlPlaneProcess.freePort();
        injectorRegistered(webhookPort);
        ControlPlaneProcess started = ControlPlaneProcess.onKubernetes(
                        workspace.cli(),
                        workspace.workDir().resolve("control-plane.log"),
                        server.kubeconfig(),
                        List.of(
                                "--webhook-address",
                                "127.0.0.1",
                                "--webhook-port",
                                String.valueOf(webhookPort),
                                "--webhook-dns-name",
                                "127.0.0.1",
                                "--sidecar-xds",
                                NetworkLab.HOST_ADDRESS + ":" + ControlPlaneProcess.XDS_PORT))
                .awaitHealthy();
        await("serve publishes its CA into the injector's caBundle")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> !server.kubectl(
                                "get",
                                "mutatingwebhookconfiguration",
                                "portcullis-injector",
                                "-o",
                                "jsonpath={.webhooks[0].clientConfig.caBundle}")
                        .orThrow()
                        .isBlank());
        runner = new StoredPodRunner(server.client(), workspace.cli(), workspace.workDir());
        return started;
    }

    /**
     * Plays kubelet: the pod is created with kubectl in the enrolled namespace, the API server stores it as
     * our injector patched it, and {@link StoredPodRunner} runs that stored spec's init and Envoy containers
     * in the pod's network namespace.
     */
    @Override
    Sidecar startSidecar(Pod pod) throws Exception {
        server.kubectlWithStdin(
                        """
                        apiVersion: v1
                        kind: Pod
                        metadata:
                          name: %s
                          namespace: %s
                        spec:
                          serviceAccountName: %s
                          containers:
                          - name: app
                            image: curlimages/curl
                            command: [sleep, infinity]
                        """.formatted(pod.podName(), pod.namespace(), pod.serviceAccount()), "create", "-f", "-")
                .orThrow();
        io.fabric8.kubernetes.api.model.Pod stored = server.client()
                .pods()
                .inNamespace(pod.namespace())
                .withName(pod.podName())
                .get();
        assertThat(stored.getSpec().getContainers())
                .as("the API server stored the pod with our sidecar")
                .extracting(io.fabric8.kubernetes.api.model.Container::getName)
                .contains(SidecarTemplate.SIDECAR_CONTAINER);
        StoredPodRunner.RunningSidecar running = runner.start(stored, pod.netns());
        return Sidecar.running(running.process(), running.log());
    }

    private void injectorRegistered(int webhookPort) {
        server.kubectlWithStdin("""
                        apiVersion: admissionregistration.k8s.io/v1
                        kind: MutatingWebhookConfiguration
                        metadata:
                          name: portcullis-injector
                        webhooks:
                        - name: inject.portcullis.io
                          admissionReviewVersions: [v1]
                          sideEffects: NoneOnDryRun
                          failurePolicy: Fail
                          timeoutSeconds: 10
                          clientConfig:
                            url: https://127.0.0.1:%d/inject
                          namespaceSelector:
                            matchLabels:
                              flomesh.io/monitored-by: fsm
                          rules:
                          - apiGroups: [""]
                            apiVersions: [v1]
                            operations: [CREATE]
                            resources: [pods]
                        """.formatted(webhookPort), "apply", "-f", "-").orThrow();
    }

    @Override
    void stopSource() {
        if (server != null) {
            server.close();
        }
    }

    @Override
    void step2_sourceSpecifics() throws Exception {
        step(
                "2. kubectl apply an invalid Egress beside it: refused by the API server, or stored, reported and skipped");
        KubectlResult result = kubectl.tryApply(Manifests.BAD_EGRESS);
        if (result.exitCode() != 0) {
            // The CRD's schema (or the validating webhook) refuses it before any control plane sees it.
            say("   refused: " + result.stderr().trim());
            assertThat(result.stderr()).contains("bad-protocol").contains("spec.ports[0].protocol");
            assertThat(curlPod.curl(HTTPBIN_80).ok())
                    .as("the valid policy still works")
                    .isTrue();
        } else {
            assertInvalidEgressReportedAndSkipped();
        }
        step("2. kubectl get egress -n curl: what the API server holds is what is enforced");
        assertThat(server.kubectl("get", "egress", "-n", "curl", "-o", "name").orThrow())
                .isEqualTo("egress.policy.flomesh.io/httpbin-80\n");
        assertThat(sourceProblems()).isEqualTo("[]");
    }

    private static String resource(String name) {
        try (InputStream in = KubernetesWalkthroughIT.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new AssertionError(name + " is not on the classpath (the portcullis-kubernetes test-jar)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
