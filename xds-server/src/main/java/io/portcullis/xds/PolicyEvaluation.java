package io.portcullis.xds;

import io.portcullis.input.ResourceSnapshot;
import io.portcullis.validation.ValidatedPolicies;
import java.util.List;

/**
 * What the control plane enforces right now: the snapshot it last validated, the outcome of that
 * validation, and the policies it leaves out of some identity's config because that identity's Envoy
 * rejected them. A status reporter reads this, so what it reports is exactly what the control plane
 * accepted, not a second validation that could disagree.
 *
 * @param snapshot    the input as the config source delivered it (with the objects' metadata, e.g. generation)
 * @param validated   accepted rules and the problems of every Egress and HTTPRouteGroup of {@code snapshot}
 * @param quarantined policies Envoy rejected, per identity (see {@link FailClosed})
 */
public record PolicyEvaluation(ResourceSnapshot snapshot, ValidatedPolicies validated, List<Quarantine> quarantined) {

    public PolicyEvaluation {
        quarantined = List.copyOf(quarantined);
    }
}
