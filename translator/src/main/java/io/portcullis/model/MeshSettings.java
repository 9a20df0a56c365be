package io.portcullis.model;

import io.portcullis.crds.EgressSettings;
import io.portcullis.crds.MeshConfig;

/**
 * The two MeshConfig switches that decide egress behaviour.
 *
 * @param policyEnforced {@code spec.featureFlags.enableEgressPolicy}: Egress policies are enforced
 * @param passthrough    {@code spec.traffic.enableEgress}: every outside destination is reachable
 */
public record MeshSettings(boolean policyEnforced, boolean passthrough) {

    /** Without a MeshConfig we fail closed: policies enforced, no passthrough. */
    public static final MeshSettings SECURE_DEFAULT = of(null);

    public static MeshSettings of(MeshConfig meshConfig) {
        EgressSettings settings = meshConfig == null ? EgressSettings.DEFAULTS : meshConfig.egressSettings();
        return new MeshSettings(settings.policyEnforced(), settings.passthrough());
    }
}
