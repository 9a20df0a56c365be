package io.portcullis.xds;

import io.portcullis.crds.EgressSettings;
import io.portcullis.input.ResourceKey;
import io.portcullis.validation.EgressRule;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one version of an identity's config was built from: the mesh switches and the policies (by
 * resource) that went into it, or deny-all when the control plane shut the identity down after a rejection.
 */
record ServedInput(EgressSettings mesh, Map<ResourceKey, EgressRule> rules, boolean denyAll) {

    ServedInput {
        rules = java.util.Collections.unmodifiableMap(new TreeMap<>(rules));
    }

    /** Policies of this input that are new or different from {@code baseline}'s: what a rejection can be blamed on. */
    Map<ResourceKey, EgressRule> changedSince(ServedInput baseline) {
        Map<ResourceKey, EgressRule> changed = new TreeMap<>();
        rules.forEach((key, rule) -> {
            if (baseline == null || !rule.equals(baseline.rules().get(key))) {
                changed.put(key, rule);
            }
        });
        return changed;
    }
}
