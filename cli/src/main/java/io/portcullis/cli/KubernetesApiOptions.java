package io.portcullis.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * Which Kubernetes API server {@code serve} talks to, if any. (Stand-in until the Kubernetes config source
 * brings the same options; both give one client.)
 */
final class KubernetesApiOptions {

    @ArgGroup(exclusive = true)
    Choice choice;

    static final class Choice {
        @Option(
                names = "--kubeconfig",
                paramLabel = "FILE",
                description = "Read policies from the Kubernetes API server this kubeconfig names (current context).")
        Path kubeconfig;

        @Option(
                names = "--in-cluster",
                description = "Read policies from the API server of the cluster this pod runs in (its ServiceAccount).")
        boolean inCluster;
    }

    boolean enabled() {
        return choice != null && (choice.kubeconfig != null || choice.inCluster);
    }

    /** A client for the chosen API server; empty when serve runs on a directory only. */
    Optional<KubernetesClient> client() {
        if (!enabled()) {
            return Optional.empty();
        }
        Config config;
        if (choice.kubeconfig != null) {
            try {
                config = Config.fromKubeconfig(Files.readString(choice.kubeconfig));
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "cannot read --kubeconfig " + choice.kubeconfig + ": " + e.getMessage(), e);
            }
        } else {
            config = Config.autoConfigure(null);
        }
        return Optional.of(new KubernetesClientBuilder().withConfig(config).build());
    }
}
