package io.portcullis.ir;

import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.PolicyProblem;
import java.util.List;

/**
 * The intermediate model of one identity's egress: what its sidecars must allow, independent of how
 * Envoy expresses it. Equal models give byte-identical Envoy config.
 *
 * @param ports     sorted by port; empty unless {@code mode} is POLICY
 * @param conflicts warnings about policies of this identity that cannot all take effect together
 */
public record SidecarEgressModel(
        ServiceAccountRef identity, EgressMode mode, List<PortPlan> ports, List<PolicyProblem> conflicts) {

    public SidecarEgressModel {
        ports = List.copyOf(ports);
        conflicts = List.copyOf(conflicts);
    }
}
