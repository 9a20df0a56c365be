package io.portcullis.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.crds.MeshConfig;
import io.portcullis.kubernetes.leader.LeaseSettings;
import io.portcullis.kubernetes.status.StatusReporting;
import io.portcullis.xds.EgressControlPlane;
import java.time.Duration;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Status conditions on Kubernetes and the Lease that decides which replica writes them. Used by
 * {@code serve} when it talks to an API server.
 *
 * <p>They use the API-server client serve opened for its config source ({@code --kubeconfig} or
 * {@code --in-cluster}); on a directory source there is no status to write.
 */
final class StatusReportingOptions {

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
    Reporter open(Optional<KubernetesClient> kubernetes) {
        return new Reporter(kubernetes.orElse(null), kubernetes.isEmpty() ? null : lease());
    }

    /**
     * Reports the status of what a control plane enforces (see {@link StatusReporting}) when
     * serve reads Kubernetes, nothing otherwise. Closing it releases the Lease.
     */
    static final class Reporter implements AutoCloseable {

        private final KubernetesClient client;
        private final LeaseSettings lease;
        private StatusReporting reporting;

        private Reporter(KubernetesClient client, LeaseSettings lease) {
            this.client = client;
            this.lease = lease;
        }

        void start(EgressControlPlane controlPlane) {
            if (lease == null) {
                return;
            }
            StatusReporting started = StatusReporting.start(client, controlPlane, lease);
            reporting = started;
            // serve ends on a signal, and the JVM does not wait for serve's own cleanup after its shutdown
            // hooks: release the Lease in a hook, so the next replica leads at once, not when the Lease expires.
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "release-lease"));
        }

        @Override
        public void close() {
            // The client is serve's (its config source's); serve closes it.
            if (reporting != null) {
                reporting.close();
            }
        }
    }
}
