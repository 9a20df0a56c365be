package io.portcullis.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.portcullis.crds.MeshConfig;
import io.portcullis.kubernetes.leader.LeaseSettings;
import io.portcullis.kubernetes.status.StatusReporting;
import io.portcullis.xds.EgressControlPlane;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * Status conditions on Kubernetes and the Lease that decides which replica writes them. Used by
 * {@code serve} when it talks to an API server.
 *
 * <p>{@code --kubeconfig} here is a stand-in: the Kubernetes config source brings {@code --kubeconfig} and
 * {@code --in-cluster} to serve; once both are merged, serve passes that client to {@link StatusReporting#start} and this
 * option goes.
 */
final class StatusReportingOptions {

    @Option(
            names = "--kubeconfig",
            paramLabel = "FILE",
            description = "Kubernetes API server (this kubeconfig's current context) to write Egress and"
                    + " HTTPRouteGroup status conditions to, as the Lease holder.")
    Path kubeconfig;

    @Option(
            names = "--lease-name",
            defaultValue = LeaseSettings.DEFAULT_NAME,
            description = "coordination.k8s.io Lease the replicas contend for; its holder writes status"
                    + " (default: ${DEFAULT-VALUE}).")
    String leaseName;

    @Option(
            names = "--lease-namespace",
            defaultValue = MeshConfig.DEFAULT_NAMESPACE,
            description = "Namespace of the Lease (default: ${DEFAULT-VALUE}).")
    String leaseNamespace;

    @Option(
            names = "--lease-duration",
            defaultValue = "15s",
            converter = DurationConverter.class,
            description = "How long after the leader's last renewal another replica may take over, e.g. when the"
                    + " leader was killed (default: ${DEFAULT-VALUE}).")
    Duration leaseDuration;

    @Option(
            names = "--lease-renew-deadline",
            defaultValue = "10s",
            converter = DurationConverter.class,
            description = "The leader stops writing when it could not renew for this long; shorter than"
                    + " --lease-duration (default: ${DEFAULT-VALUE}).")
    Duration renewDeadline;

    @Option(
            names = "--lease-retry-period",
            defaultValue = "2s",
            converter = DurationConverter.class,
            description = "How often replicas try to take or renew the Lease (default: ${DEFAULT-VALUE}).")
    Duration retryPeriod;

    /** The Lease settings of these options, held as this replica (pod name, else hostname and pid). */
    LeaseSettings lease() {
        return new LeaseSettings(
                leaseNamespace, leaseName, LeaseSettings.thisReplica(), leaseDuration, renewDeadline, retryPeriod);
    }

    /** Status reporting as these options ask for it; nothing happens until {@link Reporter#start}. */
    Reporter open() {
        return new Reporter(kubeconfig == null ? null : lease());
    }

    /**
     * Reports the status of what a control plane enforces (see {@link StatusReporting}) when
     * {@code --kubeconfig} is given, nothing otherwise. Closing it releases the Lease and the client.
     */
    final class Reporter implements AutoCloseable {

        private final LeaseSettings lease;
        private KubernetesClient client;
        private StatusReporting reporting;

        private Reporter(LeaseSettings lease) {
            this.lease = lease;
        }

        void start(EgressControlPlane controlPlane) throws IOException {
            if (lease == null) {
                return;
            }
            client = new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
                    .build();
            StatusReporting started = StatusReporting.start(client, controlPlane, lease);
            reporting = started;
            // serve ends on a signal, and the JVM does not wait for serve's own cleanup after its shutdown
            // hooks: release the Lease in a hook, so the next replica leads at once, not when the Lease expires.
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "release-lease"));
        }

        @Override
        public void close() {
            if (reporting != null) {
                reporting.close();
            }
            if (client != null) {
                client.close();
            }
        }
    }
}
