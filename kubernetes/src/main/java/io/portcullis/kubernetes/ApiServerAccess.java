package io.portcullis.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How {@code serve} reaches a Kubernetes API server: {@code --kubeconfig FILE} or {@code --in-cluster}. One
 * client per process, shared by everything that talks to the API server (config source, status, webhooks).
 */
public final class ApiServerAccess {

    private ApiServerAccess() {}

    /**
     * A client for the API server of a kubeconfig file (its current context).
     *
     * @throws IllegalArgumentException if the file cannot be read or is not a kubeconfig
     */
    public static KubernetesClient fromKubeconfig(Path kubeconfig) {
        if (!Files.isReadable(kubeconfig)) {
            throw new IllegalArgumentException("--kubeconfig " + kubeconfig + " cannot be read: "
                    + (Files.exists(kubeconfig) ? "permission denied" : "no such file"));
        }
        Config config;
        try {
            // from the file, so that certificate files it names relative to itself are found
            config = Config.fromKubeconfig(kubeconfig.toFile());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "--kubeconfig " + kubeconfig + " is not a usable kubeconfig: " + e.getMessage());
        }
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /**
     * A client for the API server of the cluster this process runs in, as its pod's ServiceAccount
     * (fabric8's auto-configuration: {@code KUBERNETES_SERVICE_HOST} and the mounted token and CA).
     *
     * @throws IllegalArgumentException outside a pod
     */
    public static KubernetesClient inCluster() {
        if (System.getenv("KUBERNETES_SERVICE_HOST") == null
                || !Files.isReadable(Path.of(Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH))) {
            throw new IllegalArgumentException("--in-cluster: this is not a Kubernetes pod (KUBERNETES_SERVICE_HOST is"
                    + " not set or there is no service account token at "
                    + Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH + "); outside a cluster use --kubeconfig FILE");
        }
        return new KubernetesClientBuilder()
                .withConfig(Config.autoConfigure(null))
                .build();
    }
}
