package io.portcullis.cli;

import io.portcullis.kubernetes.KubernetesConfigSource;
import io.portcullis.source.ConfigSource;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.ManifestStore;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * Where {@code serve} reads its config: a directory of manifests (the default) or a Kubernetes API
 * server, never both, since two sources of truth would disagree.
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
     * The source the options select, not started.
     *
     * @throws CommandLine.ParameterException if they select none, or more than one
     */
    ConfigSource open(CommandSpec spec, String meshNamespace) throws IOException {
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
        try {
            if (kubeconfig != null) {
                return KubernetesConfigSource.fromKubeconfig(kubeconfig, meshNamespace);
            }
            if (inCluster) {
                return KubernetesConfigSource.inCluster(meshNamespace);
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (configDir == null) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "serve needs a config source: --config-dir DIR (or PORTCULLIS_CONFIG_DIR) for a directory of"
                            + " manifests, or --kubeconfig FILE / --in-cluster for a Kubernetes API server");
        }
        // FSM's installation creates fsm-mesh-config; on Kubernetes deploy/ does, here serve does.
        new ManifestStore(configDir, meshNamespace).ensureMeshConfig();
        return new DirectoryConfigSource(configDir, meshNamespace);
    }
}
