package io.portcullis.xds;

import io.portcullis.input.ResourceKey;
import io.portcullis.validation.EgressRule;
import java.util.Map;

/**
 * The one decision of what an identity is served after one of its sidecars rejected (NACKed) the
 * version the identity is served.
 *
 * <p>Envoy keeps its previous config when it rejects an update. So when the rejected update narrowed a
 * policy (say an HTTPRouteGroup added to an Egress that allowed any request to a host), the sidecar goes on
 * enforcing the wider policy, and sending the same update again only gets it rejected again. The identity
 * must instead be served something that grants no more than what its sidecars last accepted. Policies are
 * allow-lists, so leaving one out only ever narrows access:
 * <ul>
 *   <li>leave out every policy that is new or changed since the last version any sidecar of the identity
 *       accepted (every policy when none was ever accepted): a narrowed policy is dropped entirely, never
 *       left wide;</li>
 *   <li>if no policy changed (a MeshConfig change, or the config without them is the one rejected), serve
 *       deny-all;</li>
 *   <li>if deny-all itself is rejected there is nothing narrower to send: send nothing more until the
 *       identity's input changes.</li>
 * </ul>
 * This is per identity, not per sidecar: sidecars of one identity share one snapshot, so if one rejects
 * what another accepts (different bootstraps), the identity as a whole fails closed.
 */
sealed interface FailClosed {

    /** Serve the identity without these policies, until each of them changes. */
    record QuarantinePolicies(Map<ResourceKey, EgressRule> blamed) implements FailClosed {
        public QuarantinePolicies {
            blamed = Map.copyOf(blamed);
        }
    }

    /** Nothing to blame: serve the identity deny-all until its input changes. */
    record DenyAll() implements FailClosed {}

    /** Deny-all was rejected: the rejecting streams get nothing more until the input changes. */
    record StopSending() implements FailClosed {}

    /**
     * @param rejected     what the rejected version was built from; null if no longer known (nothing to blame)
     * @param lastAccepted what the last version a sidecar of the identity accepted was built from; null if none
     */
    static FailClosed decide(ServedInput rejected, ServedInput lastAccepted) {
        if (rejected == null) {
            return new DenyAll();
        }
        if (rejected.denyAll()) {
            return new StopSending();
        }
        Map<ResourceKey, EgressRule> blamed = rejected.changedSince(lastAccepted);
        return blamed.isEmpty() ? new DenyAll() : new QuarantinePolicies(blamed);
    }
}
