package io.portcullis.ir;

import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.PolicyProblem;
import java.util.List;
import java.util.Objects;

/**
 * The model of one identity's egress: what its sidecars must allow, independent of how Envoy expresses
 * it. Equal models give byte-identical Envoy config. MeshConfig decides which of the three it is, and
 * only {@link PolicyEnforced} has ports: a passthrough or deny-all model has nothing to carry them in,
 * so no consumer has to remember to ignore them.
 */
public sealed interface SidecarEgressModel {

    ServiceAccountRef identity();

    /** {@code traffic.enableEgress: true}: every outside destination is reachable, policies are moot. */
    record Passthrough(ServiceAccountRef identity) implements SidecarEgressModel {
        public Passthrough {
            Objects.requireNonNull(identity, "identity");
        }
    }

    /**
     * Nothing outside the mesh is reachable: both MeshConfig switches are off, or the control plane
     * locked the identity down after its sidecars rejected a config.
     *
     * @param audit the identity's namespace is in audit mode: everything is let through to the address
     *              dialled and logged {@code would_deny}
     */
    record DenyAll(ServiceAccountRef identity, boolean audit) implements SidecarEgressModel {
        public DenyAll {
            Objects.requireNonNull(identity, "identity");
        }

        /** Enforced: nothing is let through. */
        public DenyAll(ServiceAccountRef identity) {
            this(identity, false);
        }
    }

    /**
     * {@code featureFlags.enableEgressPolicy: true}: only what an Egress policy names is reachable.
     *
     * @param ports     one plan per destination port, sorted by port; empty when no policy names the identity
     * @param conflicts warnings about policies of this identity that cannot all take effect together
     * @param audit     the identity's namespace is in audit mode: what the policies do not allow is let
     *                  through to the address dialled and logged {@code would_deny}; every port is audited
     *
     * <p>The MeshConfig's sample rate of allowed traffic in the decision log is no part of the model: sidecars get it
     * at run time (RTDS, see AccessLogs.DecisionSampling), so changing it rebuilds no identity.
     */
    record PolicyEnforced(
            ServiceAccountRef identity, List<PortPlan> ports, List<PolicyProblem> conflicts, boolean audit)
            implements SidecarEgressModel {

        /** Enforced in its namespace (ports may still be audited by their Egress), logging refusals only. */
        public PolicyEnforced(ServiceAccountRef identity, List<PortPlan> ports, List<PolicyProblem> conflicts) {
            this(identity, ports, conflicts, false);
        }

        public PolicyEnforced {
            Objects.requireNonNull(identity, "identity");
            ports = List.copyOf(ports);
            conflicts = List.copyOf(conflicts);
            // Each port's policies are merged into one plan: two plans for a port would give Envoy two
            // filter chains with the same match, which it rejects.
            for (int i = 1; i < ports.size(); i++) {
                if (ports.get(i - 1).port() >= ports.get(i).port()) {
                    throw new IllegalArgumentException("port plans of " + identity
                            + " must be sorted by port, one per port: "
                            + ports.get(i - 1).port() + " then " + ports.get(i).port());
                }
            }
        }
    }
}
