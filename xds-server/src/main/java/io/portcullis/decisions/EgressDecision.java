package io.portcullis.decisions;

import java.time.Instant;
import java.util.Objects;

/**
 * One egress decision a sidecar reported to the control plane (over Envoy's gRPC access log service),
 * with the fields of the decision log ({@link io.portcullis.envoy.DecisionLog}). Optional fields are
 * null when Envoy had nothing for them (no SNI on plain TCP, no policy for a default-chain denial).
 *
 * @param identity    {@code namespace/serviceAccount} proven by the sidecar's certificate, not what it claims
 * @param destination the original destination {@code ip:port} the workload dialled
 * @param decision    {@code allow}, {@code deny} or {@code would_deny}
 * @param policy      the deciding Egress as {@code namespace/name}, or null
 * @param match       the deciding HTTPRouteGroup match, or null
 */
public record EgressDecision(
        Instant time,
        String identity,
        String destination,
        String protocol,
        String sni,
        String host,
        String method,
        String path,
        String decision,
        String policy,
        String match,
        String reason,
        Integer responseCode) {

    public EgressDecision {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(decision, "decision");
    }

    /** True for {@code deny} and {@code would_deny}: what the operator page lists as denials. */
    public boolean refused() {
        return !io.portcullis.envoy.DecisionLog.ALLOW.equals(decision);
    }
}
