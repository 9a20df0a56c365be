package io.portcullis.crds;

/**
 * Effective mesh-wide egress settings derived from a {@link MeshConfig}: the two switches that decide
 * egress behaviour, and how much allowed traffic the sidecars' decision logs sample.
 *
 * @param policyEnforced {@code featureFlags.enableEgressPolicy}: Egress policies are enforced
 * @param passthrough {@code traffic.enableEgress}: all external traffic is let through
 * @param allowedLogPercent {@code observability.egressDecisionLog.allowedSamplePercent} (ours; FSM has no
 *     such field): the percentage, 0-100, of allowed connections and requests written to the decision
 *     log; refusals are always logged. 0 by default
 */
public record EgressSettings(boolean policyEnforced, boolean passthrough, int allowedLogPercent) {

    public EgressSettings {
        if (allowedLogPercent < 0 || allowedLogPercent > 100) {
            throw new IllegalArgumentException("allowedLogPercent " + allowedLogPercent + " is not within 0-100");
        }
    }

    /** Settings logging refusals only. */
    public EgressSettings(boolean policyEnforced, boolean passthrough) {
        this(policyEnforced, passthrough, 0);
    }

    /**
     * These settings but for the sample rate: all that the sidecars' Envoy resources (listeners, clusters, routes)
     * are built from. The rate reaches the sidecars at run time (RTDS), so a change of it alone rebuilds nothing.
     */
    public EgressSettings withoutLogSampling() {
        return new EgressSettings(policyEnforced, passthrough);
    }

    /**
     * Settings used when there is no MeshConfig or it leaves a flag out: enforcement ON, passthrough
     * OFF. Secure by default: an absent or incomplete MeshConfig must never widen what workloads
     * can reach (fail closed); opening egress up requires an explicit {@code enableEgress: true} or
     * {@code enableEgressPolicy: false}.
     */
    public static final EgressSettings DEFAULTS = new EgressSettings(true, false);

    /** The settings of the mesh-wide MeshConfig; {@link #DEFAULTS} when there is none. */
    public static EgressSettings of(MeshConfig meshConfig) {
        return meshConfig == null ? DEFAULTS : meshConfig.egressSettings();
    }
}
