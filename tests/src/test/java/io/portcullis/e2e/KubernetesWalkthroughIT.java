package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The guide's walkthrough ({@link GuideWalkthrough}) with the Kubernetes source: a real kube-apiserver
 * and etcd with our CRDs, {@code fsm-system} and its {@code fsm-mesh-config} as an install creates them,
 * the {@code curl} namespace enrolled, {@code portcullis serve --kubeconfig} as the control plane, and
 * every step done with the real kubectl exactly as the guide writes it.
 */
@NeedsKubeApiServer
class KubernetesWalkthroughIT extends GuideWalkthrough {

    /**
     * fsm-system and the default fsm-mesh-config, from the portcullis-kubernetes test-jar: the same file
     * the kubernetes module's tests install.
     */
    static final String FSM_MESH_CONFIG = "/fsm-mesh-config.yaml";

    private KubeApiServer server;
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
        return ControlPlaneProcess.onKubernetes(
                        workspace.cli(), workspace.workDir().resolve("control-plane.log"), server.kubeconfig())
                .awaitHealthy();
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
