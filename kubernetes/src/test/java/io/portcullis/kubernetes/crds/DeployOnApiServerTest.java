package io.portcullis.kubernetes.crds;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * deploy/ (the kustomization) on a real API server, installed the way docs/kubernetes.md says: CRDs and the
 * namespace first, then {@code kubectl apply -k deploy}. No control plane runs here, so the webhooks it configures
 * have nobody to call: which shows what their failure policy does.
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployOnApiServerTest {

    /** kubectl pads table columns with spaces. */
    private static final Pattern COLUMNS = Pattern.compile("\\s+");

    private static final String CONTROL_PLANE = "system:serviceaccount:fsm-system:portcullis";

    private KubeApiServer server;
    private Path deploy;
    private KubectlResult dryRun;
    private KubectlResult serverSideDryRun;

    @BeforeAll
    void install() {
        server = KubeApiServer.start();
        deploy = KubeApiServer.deployDirectory();
        // the prerequisites docs/kubernetes.md installs first: CRDs established, the namespace its Secrets go in
        server.installCrds();
        server.kubectl(
                        "apply",
                        "-f",
                        deploy.resolve("control-plane/namespace.yaml").toString())
                .orThrow();
        dryRun = server.kubectl("apply", "-k", deploy.toString(), "--dry-run=server");
        serverSideDryRun = server.kubectl("apply", "-k", deploy.toString(), "--server-side", "--dry-run=server");
        // a policy that exists before the webhooks do, and a namespace enrolled in the mesh
        server.kubectl("create", "namespace", "curl").orThrow();
        server.kubectl("label", "namespace", "curl", "flomesh.io/monitored-by=fsm")
                .orThrow();
        server.kubectl("create", "serviceaccount", "curl", "-n", "curl").orThrow();
        server.kubectl("apply", "-f", guide("03-tcp-egress.yaml").toString()).orThrow();
        server.kubectl("apply", "-k", deploy.toString()).orThrow();
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private Path guide(String file) {
        return deploy.resolve("examples/fsm-egress-guide").resolve(file);
    }

    @Test
    void everyObjectOfDeployPassesAServerDryRunOnceCrdsAndNamespaceAreInstalled() {
        List<String> objects = List.of(
                "namespace/fsm-system",
                "customresourcedefinition.apiextensions.k8s.io/egresses.policy.flomesh.io",
                "customresourcedefinition.apiextensions.k8s.io/httproutegroups.specs.smi-spec.io",
                "customresourcedefinition.apiextensions.k8s.io/meshconfigs.config.flomesh.io",
                "serviceaccount/portcullis",
                "clusterrole.rbac.authorization.k8s.io/portcullis",
                "clusterrole.rbac.authorization.k8s.io/portcullis-sidecar-secrets",
                "clusterrolebinding.rbac.authorization.k8s.io/portcullis",
                "role.rbac.authorization.k8s.io/portcullis",
                "rolebinding.rbac.authorization.k8s.io/portcullis",
                "deployment.apps/portcullis",
                "poddisruptionbudget.policy/portcullis",
                "service/portcullis-xds",
                "service/portcullis-webhook",
                "service/portcullis-debug",
                "validatingwebhookconfiguration.admissionregistration.k8s.io/portcullis-validating",
                "mutatingwebhookconfiguration.admissionregistration.k8s.io/portcullis-injector",
                "meshconfig.config.flomesh.io/fsm-mesh-config");
        for (KubectlResult result : List.of(dryRun, serverSideDryRun)) {
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            List<String> lines = result.stdout().lines().toList();
            for (String object : objects) {
                assertThat(lines)
                        .as(result.stdout())
                        .anySatisfy(l -> assertThat(l).startsWith(object + " ").endsWith("(server dry run)"));
            }
        }
    }

    @Test
    void kustomizeRendersTwoReplicasWithProbesAndWebhooksWithoutACaBundle() {
        String rendered = server.kubectl("kustomize", deploy.toString()).orThrow();

        assertThat(rendered)
                .contains("replicas: 2", "readinessProbe:", "livenessProbe:", "image: portcullis/portcullis:0.1.0")
                .contains("failurePolicy: Fail")
                .doesNotContain("caBundle");
        assertThat(server.kubectl(
                                "get",
                                "deployment",
                                "portcullis",
                                "-n",
                                "fsm-system",
                                "-o",
                                "jsonpath={.spec.template.spec.containers[0].resources.requests.memory}")
                        .orThrow())
                .isNotEmpty();
    }

    @Test
    void theGuidesMeshConfigPatchWorksVerbatimOnTheInstalledDefault() throws IOException {
        assertThat(meshConfigSwitches()).isEqualTo("true false");
        // a cluster where someone had turned passthrough on and enforcement off ...
        server.kubectl(
                        "patch",
                        "meshconfig",
                        "fsm-mesh-config",
                        "-n",
                        "fsm-system",
                        "--type=merge",
                        "-p",
                        "{\"spec\":{\"featureFlags\":{\"enableEgressPolicy\":false},\"traffic\":{\"enableEgress\":true}}}")
                .orThrow();
        assertThat(meshConfigSwitches()).isEqualTo("false true");

        // ... is put right by the guide's command, word for word
        String guidePatch =
                Files.readString(guide("meshconfig-merge-patch.json")).strip();
        KubectlResult patched = server.kubectl(
                "patch", "meshconfig", "fsm-mesh-config", "-n", "fsm-system", "-p", guidePatch, "--type=merge");

        assertThat(patched.exitCode()).as(patched.stderr()).isZero();
        assertThat(patched.stdout()).isEqualTo("meshconfig.config.flomesh.io/fsm-mesh-config patched\n");
        assertThat(meshConfigSwitches()).isEqualTo("true false");
        List<String> table = server.kubectl("get", "meshconfig", "-n", "fsm-system")
                .orThrow()
                .lines()
                .toList();
        assertThat(COLUMNS.splitAsStream(table.get(0).strip()))
                .containsExactly("NAME", "AGE", "EGRESSPOLICY", "EGRESSPASSTHROUGH");
        List<String> row = COLUMNS.splitAsStream(table.get(1).strip()).toList();
        assertThat(row.get(0)).isEqualTo("fsm-mesh-config");
        assertThat(row.subList(2, 4)).containsExactly("true", "false");
    }

    private String meshConfigSwitches() {
        return server.kubectl(
                        "get",
                        "meshconfig",
                        "fsm-mesh-config",
                        "-n",
                        "fsm-system",
                        "-o",
                        "jsonpath={.spec.featureFlags.enableEgressPolicy} {.spec.traffic.enableEgress}")
                .orThrow();
    }

    static Stream<Arguments> controlPlanePermissions() {
        return Stream.of(
                // the policies: read everywhere, write only their status
                Arguments.of("list", "egresses.policy.flomesh.io", "curl", true),
                Arguments.of("watch", "httproutegroups.specs.smi-spec.io", "curl", true),
                Arguments.of("patch", "egresses.policy.flomesh.io/status", "curl", true),
                Arguments.of("update", "httproutegroups.specs.smi-spec.io/status", "curl", true),
                Arguments.of("patch", "egresses.policy.flomesh.io", "curl", false),
                Arguments.of("delete", "egresses.policy.flomesh.io", "curl", false),
                Arguments.of("create", "httproutegroups.specs.smi-spec.io", "curl", false),
                // enrolment
                Arguments.of("watch", "namespaces", "", true),
                Arguments.of("patch", "namespaces", "", false),
                // the MeshConfig and the leader Lease: in the control plane's namespace only
                Arguments.of("watch", "meshconfigs.config.flomesh.io", "fsm-system", true),
                Arguments.of("list", "meshconfigs.config.flomesh.io", "curl", false),
                Arguments.of("patch", "meshconfigs.config.flomesh.io", "fsm-system", false),
                Arguments.of("update", "leases.coordination.k8s.io", "fsm-system", true),
                Arguments.of("update", "leases.coordination.k8s.io", "kube-system", false),
                // its own webhook configurations, by name
                Arguments.of("patch", "validatingwebhookconfigurations/portcullis-validating", "", true),
                Arguments.of("patch", "mutatingwebhookconfigurations/portcullis-injector", "", true),
                Arguments.of("patch", "validatingwebhookconfigurations/someone-elses", "", false),
                Arguments.of("create", "mutatingwebhookconfigurations", "", false),
                // no Secret anywhere until a namespace is bound (see theSidecarSecretsRoleIsGrantedPerNamespace)
                Arguments.of("get", "secrets", "fsm-system", false),
                Arguments.of("create", "secrets", "curl", false),
                Arguments.of("list", "pods", "curl", false),
                Arguments.of("create", "tokenreviews.authentication.k8s.io", "", false));
    }

    @ParameterizedTest(name = "{0} {1} in \"{2}\": {3}")
    @MethodSource("controlPlanePermissions")
    void theControlPlaneMayDoWhatItNeedsAndNothingMore(
            String verb, String resource, String namespace, boolean allowed) {
        assertThat(canI(verb, resource, namespace)).isEqualTo(allowed);
    }

    @Test
    void theSidecarSecretsRoleIsGrantedPerNamespace() {
        server.kubectl("create", "namespace", "bound").orThrow();
        server.kubectl(
                        "create",
                        "rolebinding",
                        "portcullis-sidecar-secrets",
                        "-n",
                        "bound",
                        "--clusterrole=portcullis-sidecar-secrets",
                        "--serviceaccount=fsm-system:portcullis")
                .orThrow();

        assertThat(canI("create", "secrets", "bound")).isTrue();
        assertThat(canI("patch", "secrets", "bound")).isTrue();
        assertThat(canI("get", "secrets", "bound")).isTrue();
        assertThat(canI("list", "secrets", "bound")).isFalse();
        assertThat(canI("delete", "secrets", "bound")).isFalse();
        assertThat(canI("get", "secrets", "default")).isFalse();
    }

    /** {@code resource} is TYPE, TYPE/NAME or TYPE/status (the status subresource). */
    private boolean canI(String verb, String resource, String namespace) {
        List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, "--as=" + CONTROL_PLANE));
        if (resource.endsWith("/status")) {
            args.add(resource.substring(0, resource.length() - "/status".length()));
            args.add("--subresource=status");
        } else {
            args.add(resource);
        }
        if (!namespace.isEmpty()) {
            args.addAll(List.of("-n", namespace));
        }
        KubectlResult result = server.kubectl(args.toArray(String[]::new));
        // kubectl answers yes (exit 0) or no (exit 1); anything else is a broken question, not a no
        assertThat(result.stdout().strip()).as(result.stderr()).isIn("yes", "no");
        return result.stdout().strip().equals("yes");
    }

    @Test
    void withNoReplicaAnsweringAPodInAnEnrolledNamespaceIsRefusedNotStartedWithoutItsSidecar() {
        KubectlResult created = server.kubectlWithStdin(pod("curl", "app"), "create", "-f", "-");

        assertThat(created.exitCode()).isNotZero();
        assertThat(created.stderr()).contains("failed calling webhook \"sidecar.inject.portcullis.io\"");
        assertThat(server.kubectl("get", "pods", "-n", "curl", "-o", "name").orThrow())
                .isEmpty();
    }

    @Test
    void theControlPlanesOwnPodsAreNeverSentToTheInjector() {
        // fsm-system is not enrolled: with failurePolicy Fail and no replica up, a call would refuse the pod
        KubectlResult created = server.kubectlWithStdin(pod("fsm-system", "portcullis-probe"), "create", "-f", "-");

        assertThat(created.exitCode()).as(created.stderr()).isZero();
    }

    @Test
    void withNoReplicaAnsweringAPolicyWriteIsRefusedButDeletingOneStillWorks() {
        KubectlResult applied =
                server.kubectl("apply", "-f", guide("01-http-egress.yaml").toString());
        assertThat(applied.exitCode()).isNotZero();
        assertThat(applied.stderr()).contains("failed calling webhook \"policies.validate.portcullis.io\"");

        // closing access never waits for the control plane
        assertThat(server.kubectl("delete", "egress", "tcp-443", "-n", "curl").orThrow())
                .contains("deleted");
    }

    private static String pod(String namespace, String name) {
        // a ServiceAccount that exists (no controller-manager creates "default" here); no token mounted
        String serviceAccount = namespace.equals("fsm-system") ? "portcullis" : "curl";
        return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + namespace
                + "\nspec:\n  serviceAccountName: " + serviceAccount + "\n  automountServiceAccountToken: false\n"
                + "  containers:\n  - name: app\n    image: example.invalid/app:1\n";
    }
}
