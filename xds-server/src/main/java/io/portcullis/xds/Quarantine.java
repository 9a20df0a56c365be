package io.portcullis.xds;

import io.portcullis.input.ResourceKey;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.EgressRule;

/**
 * A policy left out of one identity's config because that identity's Envoy rejected the config built
 * with it. It stays out until the policy's content changes; then it is tried again.
 *
 * @param rule         the policy's content when it was blamed: a different content lifts the quarantine
 * @param version      the rejected version
 * @param type         the xDS type Envoy rejected (Listener, RouteConfiguration, Cluster)
 * @param nodeId       the sidecar that rejected it
 * @param envoyMessage Envoy's error_detail
 */
public record Quarantine(
        ServiceAccountRef identity,
        ResourceKey policy,
        EgressRule rule,
        String version,
        String type,
        String nodeId,
        String envoyMessage) {

    public String fix() {
        return "Envoy rejected the config built from this policy, so it is not enforced for " + identity
                + " (its sidecars get the other policies, which only narrows access); change the policy so Envoy "
                + "accepts it (see Envoy's message), which tries it again";
    }
}
