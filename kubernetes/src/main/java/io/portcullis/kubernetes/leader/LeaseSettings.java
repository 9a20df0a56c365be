package io.portcullis.kubernetes.leader;

import io.portcullis.crds.MeshConfig;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;

/**
 * Which Lease the control-plane replicas contend for, who this replica is, and the timing (the same
 * meaning as client-go's leader election): a leader that stops renewing (killed, cut off) loses the Lease
 * {@code leaseDuration} after its last renewal, and another replica takes it within one
 * {@code retryPeriod} (plus jitter) after that. A leader that cannot renew for {@code renewDeadline} stops
 * acting as leader before its Lease can be taken, so two replicas never both believe they lead.
 */
public record LeaseSettings(
        String namespace,
        String name,
        String identity,
        Duration leaseDuration,
        Duration renewDeadline,
        Duration retryPeriod) {

    public static final String DEFAULT_NAME = "portcullis-leader";
    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);
    public static final Duration DEFAULT_RENEW_DEADLINE = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RETRY_PERIOD = Duration.ofSeconds(2);

    public LeaseSettings {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(identity, "identity");
        if (!(leaseDuration.compareTo(renewDeadline) > 0 && renewDeadline.compareTo(retryPeriod) > 0)
                || retryPeriod.isNegative()
                || retryPeriod.isZero()) {
            throw new IllegalArgumentException("lease timing must be leaseDuration (" + leaseDuration
                    + ") > renewDeadline (" + renewDeadline + ") > retryPeriod (" + retryPeriod + ") > 0, so a"
                    + " leader that cannot renew steps down before another replica may take the Lease");
        }
    }

    /** Lease {@value #DEFAULT_NAME} in fsm-system with the defaults above, held as {@link #thisReplica()}. */
    public static LeaseSettings defaults() {
        return new LeaseSettings(
                MeshConfig.DEFAULT_NAMESPACE,
                DEFAULT_NAME,
                thisReplica(),
                DEFAULT_LEASE_DURATION,
                DEFAULT_RENEW_DEADLINE,
                DEFAULT_RETRY_PERIOD);
    }

    public LeaseSettings withTiming(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        return new LeaseSettings(namespace, name, identity, leaseDuration, renewDeadline, retryPeriod);
    }

    /**
     * The pod name in a cluster (POD_NAME from the downward API, else the hostname, which Kubernetes sets
     * to the pod name), else hostname and pid, so two replicas on one machine differ.
     */
    public static String thisReplica() {
        String pod = System.getenv("POD_NAME");
        if (pod != null && !pod.isBlank()) {
            return pod;
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "localhost";
        }
        if (System.getenv("KUBERNETES_SERVICE_HOST") != null) {
            return host;
        }
        return host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
    }
}
