package io.portcullis.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.portcullis.crds.EgressMode;
import io.portcullis.kubernetes.Enrolment;
import io.portcullis.kubernetes.NamespaceEnrolment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code portcullis namespace add|remove|list}, as {@code fsm namespace add|remove|list}, and {@code audit|enforce}
 * to switch a namespace's egress mode ({@link EgressMode}).
 */
@Command(
        name = "namespace",
        mixinStandardHelpOptions = true,
        description = "Enrol namespaces in the mesh (FSM's labels and annotations, so 'fsm namespace' and this agree),"
                + " and switch their egress mode between audit and enforce.",
        subcommands = {
            NamespaceCommand.Add.class,
            NamespaceCommand.Remove.class,
            NamespaceCommand.ListNamespaces.class,
            NamespaceCommand.Audit.class,
            NamespaceCommand.Enforce.class
        })
final class NamespaceCommand {

    /**
     * Which API server, chosen as kubectl chooses it, so that {@code kubectl portcullis namespace ...} (the kubectl
     * plugin) talks to the cluster kubectl would: --kubeconfig, else $KUBECONFIG (a list of files, like kubectl's),
     * ~/.kube/config or the in-cluster ServiceAccount; --context, else the kubeconfig's current context.
     */
    static final class KubectlContext {
        @Option(
                names = "--kubeconfig",
                paramLabel = "FILE",
                description = "Kubeconfig file, like kubectl's --kubeconfig (default: $KUBECONFIG, ~/.kube/config,"
                        + " in-cluster).")
        Path kubeconfig;

        @Option(
                names = "--context",
                paramLabel = "NAME",
                description = "Kubeconfig context, like kubectl's --context (default: the current context).")
        String context;

        KubernetesClient client() {
            if (kubeconfig == null) {
                return new KubernetesClientBuilder()
                        .withConfig(Config.autoConfigure(context))
                        .build();
            }
            if (!Files.isReadable(kubeconfig)) {
                throw new IllegalArgumentException("--kubeconfig " + kubeconfig + " cannot be read: "
                        + (Files.exists(kubeconfig) ? "permission denied" : "no such file"));
            }
            // from the file, so that certificate files it names relative to itself are found
            return new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(context, kubeconfig.toFile()))
                    .build();
        }
    }

    /** Which API server and which mesh. */
    static final class ClusterOptions {
        @Mixin
        KubectlContext kubectl;

        @Option(
                names = "--mesh-name",
                defaultValue = Enrolment.DEFAULT_MESH_NAME,
                description = "Name of the mesh (default: ${DEFAULT-VALUE}).")
        String meshName;

        KubernetesClient client() {
            return kubectl.client();
        }
    }

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            description =
                    "Add namespaces to the mesh; new pods there get a sidecar unless --disable-sidecar-injection.")
    static final class Add implements Callable<Integer> {
        @Mixin
        ClusterOptions cluster;

        @Option(names = "--disable-sidecar-injection", description = "Enrol without automatic sidecar injection.")
        boolean disableSidecarInjection;

        @Parameters(arity = "1..*", paramLabel = "NAMESPACE")
        List<String> namespaces;

        @Override
        public Integer call() throws Exception {
            try (KubernetesClient client = cluster.client()) {
                new NamespaceEnrolment(client)
                        .add(namespaces, cluster.meshName, disableSidecarInjection)
                        .forEach(System.out::println);
            }
            return 0;
        }
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            description = "Remove a namespace from the mesh; running pods keep their sidecars until recreated.")
    static final class Remove implements Callable<Integer> {
        @Mixin
        ClusterOptions cluster;

        @Parameters(paramLabel = "NAMESPACE")
        String namespace;

        @Override
        public Integer call() throws Exception {
            try (KubernetesClient client = cluster.client()) {
                System.out.println(new NamespaceEnrolment(client).remove(namespace, cluster.meshName));
            }
            return 0;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List the enrolled namespaces and whether their pods get sidecars.")
    static final class ListNamespaces implements Callable<Integer> {
        @Mixin
        KubectlContext kubectl;

        @Option(names = "--mesh-name", defaultValue = "", description = "Only this mesh (default: every mesh).")
        String meshName;

        @Override
        public Integer call() throws Exception {
            try (KubernetesClient client = kubectl.client()) {
                System.out.print(new NamespaceEnrolment(client).list(meshName));
            }
            return 0;
        }
    }

    @Command(
            name = "audit",
            mixinStandardHelpOptions = true,
            description = "Put a namespace in audit mode (annotation " + EgressMode.ANNOTATION + "=audit): its"
                    + " sidecars let through what the policies refuse and log and count it as would_deny. Live.")
    static final class Audit implements Callable<Integer> {
        @Mixin
        ClusterOptions cluster;

        @Parameters(paramLabel = "NAMESPACE")
        String namespace;

        @Override
        public Integer call() {
            return setMode(cluster, namespace, EgressMode.AUDIT);
        }
    }

    @Command(
            name = "enforce",
            mixinStandardHelpOptions = true,
            description = "Put a namespace back in enforce mode (annotation " + EgressMode.ANNOTATION + "=enforce):"
                    + " its sidecars refuse what the policies do not allow. Live.")
    static final class Enforce implements Callable<Integer> {
        @Mixin
        ClusterOptions cluster;

        @Parameters(paramLabel = "NAMESPACE")
        String namespace;

        @Override
        public Integer call() {
            return setMode(cluster, namespace, EgressMode.ENFORCE);
        }
    }

    private static int setMode(ClusterOptions cluster, String namespace, EgressMode mode) {
        try (KubernetesClient client = cluster.client()) {
            new NamespaceEnrolment(client)
                    .setMode(namespace, mode, cluster.meshName)
                    .forEach(System.out::println);
        }
        return 0;
    }
}
