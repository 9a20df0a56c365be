package io.portcullis.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
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

/** {@code portcullis namespace add|remove|list}, as {@code fsm namespace add|remove|list}. */
@Command(
        name = "namespace",
        mixinStandardHelpOptions = true,
        description = "Enrol namespaces in the mesh (FSM's labels and annotations, so 'fsm namespace' and this agree).",
        subcommands = {NamespaceCommand.Add.class, NamespaceCommand.Remove.class, NamespaceCommand.ListNamespaces.class
        })
final class NamespaceCommand {

    /** Which API server: --kubeconfig, else $KUBECONFIG, ~/.kube/config or the in-cluster ServiceAccount. */
    static final class ClusterOptions {
        @Option(
                names = "--kubeconfig",
                description = "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).")
        Path kubeconfig;

        @Option(
                names = "--mesh-name",
                defaultValue = Enrolment.DEFAULT_MESH_NAME,
                description = "Name of the mesh (default: ${DEFAULT-VALUE}).")
        String meshName;

        KubernetesClient client() throws java.io.IOException {
            if (kubeconfig == null) {
                return new KubernetesClientBuilder().build();
            }
            return new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
                    .build();
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
        @Option(
                names = "--kubeconfig",
                description = "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).")
        Path kubeconfig;

        @Option(names = "--mesh-name", defaultValue = "", description = "Only this mesh (default: every mesh).")
        String meshName;

        @Override
        public Integer call() throws Exception {
            ClusterOptions cluster = new ClusterOptions();
            cluster.kubeconfig = kubeconfig;
            try (KubernetesClient client = cluster.client()) {
                System.out.print(new NamespaceEnrolment(client).list(meshName));
            }
            return 0;
        }
    }
}
