package io.portcullis.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.kubernetes.ApiServerAccess;
import io.portcullis.kubernetes.KubernetesConfigSource;
import io.portcullis.metrics.ControlPlaneMetrics;
import io.portcullis.source.ConfigSource;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.ManifestStore;
import io.portcullis.source.SourceEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * Where {@code serve} reads its config: a directory of manifests (the default) or a Kubernetes API
 * server, never both, since two sources of truth would disagree. On Kubernetes the one client it opens
 * is also what the status writer and the webhooks use ({@link Opened#kubernetes()}).
 */
final class ServeSourceOptions {

    @Option(
            names = "--config-dir",
            defaultValue = "${env:PORTCULLIS_CONFIG_DIR}",
            description = "Directory of Egress/HTTPRouteGroup/MeshConfig YAML manifests, applied live (or set"
                    + " PORTCULLIS_CONFIG_DIR). The default source; not with --kubeconfig or --in-cluster.")
    Path configDir;

    @Option(
            names = "--kubeconfig",
            paramLabel = "FILE",
            description = "Read Egress, HTTPRouteGroup, MeshConfig and enrolled namespaces from the Kubernetes API"
                    + " server of this kubeconfig (its current context) instead of a directory.")
    Path kubeconfig;

    @Option(
            names = "--in-cluster",
            description = "Read them from the API server of the cluster this pod runs in, as its ServiceAccount.")
    boolean inCluster;

    /**
     * The selected source (not started) and, on Kubernetes, the client it reads through; closing closes
     * the source, then the client.
     */
    record Opened(ConfigSource config, Optional<KubernetesClient> kubernetes) implements AutoCloseable {
        @Override
        public void close() {
            config.close();
            kubernetes.ifPresent(KubernetesClient::close);
        }
    }

    /**
     * @param metrics where the source counts its events ({@code portcullis_config_source_events_total})
     * @throws CommandLine.ParameterException if the options select no source, or more than one
     */
    Opened open(CommandSpec spec, String meshNamespace, ControlPlaneMetrics metrics) throws IOException {
        boolean configDirGiven = spec.commandLine().getParseResult().hasMatchedOption("--config-dir");
        if (kubeconfig != null && inCluster) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--kubeconfig and --in-cluster are mutually exclusive: pass --kubeconfig FILE outside a cluster,"
                            + " --in-cluster in a pod");
        }
        if ((kubeconfig != null || inCluster) && configDirGiven) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--config-dir and " + (inCluster ? "--in-cluster" : "--kubeconfig")
                            + " are mutually exclusive: serve reads its config from one source, a directory of"
                            + " manifests or a Kubernetes API server");
        }
        if (kubeconfig != null || inCluster) {
            KubernetesClient client;
            try {
                client = kubeconfig != null ? ApiServerAccess.fromKubeconfig(kubeconfig) : ApiServerAccess.inCluster();
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            return new Opened(
                    new KubernetesConfigSource(
                            client,
                            meshNamespace,
                            KubernetesConfigSource.DEFAULT_SYNC_TIMEOUT,
                            metrics.sourceEvents("kubernetes", SourceEvent.KUBERNETES)),
                    Optional.of(client));
        }
        if (configDir == null) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "serve needs a config source: --config-dir DIR (or PORTCULLIS_CONFIG_DIR) for a directory of"
                            + " manifests, or --kubeconfig FILE / --in-cluster for a Kubernetes API server");
        }
        // FSM's installation creates fsm-mesh-config; on Kubernetes deploy/ does, here serve does.
        new ManifestStore(configDir, meshNamespace).ensureMeshConfig();
        return new Opened(
                new DirectoryConfigSource(
                        configDir, meshNamespace, metrics.sourceEvents("directory", SourceEvent.DIRECTORY)),
                Optional.empty());
    }
}
