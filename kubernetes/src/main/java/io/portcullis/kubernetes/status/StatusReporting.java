package io.portcullis.kubernetes.status;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.kubernetes.leader.Leadership;
import io.portcullis.kubernetes.leader.LeaseElection;
import io.portcullis.kubernetes.leader.LeaseSettings;
import io.portcullis.xds.EgressControlPlane;
import java.time.Clock;

/**
 * One control-plane replica's part in reporting status on Kubernetes: it follows what its
 * {@link EgressControlPlane} enforces, and writes the status of Egresses and HTTPRouteGroups while it
 * holds the Lease. Every replica serves xDS; only the Lease holder writes, so replicas never race on a
 * status and a second replica costs the API server nothing more.
 */
public final class StatusReporting implements AutoCloseable {

    /** The field manager the API server records for status writes (kubectl get -o yaml --show-managed-fields). */
    public static final String FIELD_MANAGER = "portcullis";

    private final PolicyStatusWriter writer;
    private final LeaseElection election;

    private StatusReporting(PolicyStatusWriter writer, LeaseElection election) {
        this.writer = writer;
        this.election = election;
    }

    /** Starts following {@code controlPlane} and contending for the Lease; {@link #close()} releases it. */
    public static StatusReporting start(KubernetesClient client, EgressControlPlane controlPlane, LeaseSettings lease) {
        return start(client, controlPlane, lease, FIELD_MANAGER);
    }

    /**
     * As {@link #start(KubernetesClient, EgressControlPlane, LeaseSettings)}, writing as {@code fieldManager}
     * (tests give each replica its own, so managedFields tell which replica wrote).
     */
    public static StatusReporting start(
            KubernetesClient client, EgressControlPlane controlPlane, LeaseSettings lease, String fieldManager) {
        PolicyStatusWriter writer = new PolicyStatusWriter(client, fieldManager, Clock.systemUTC());
        controlPlane.onEvaluation(writer::offer);
        LeaseElection election = new LeaseElection(client, lease, new Leadership() {
            @Override
            public void startLeading() {
                writer.lead();
            }

            @Override
            public void stopLeading() {
                writer.follow();
            }
        });
        election.start();
        return new StatusReporting(writer, election);
    }

    public boolean leading() {
        return election.leading();
    }

    /** Status patches sent by this replica. */
    public int writes() {
        return writer.writes();
    }

    @Override
    public void close() {
        // Release the Lease first: the next replica can lead at once instead of after the lease expires.
        election.close();
        writer.close();
    }
}
