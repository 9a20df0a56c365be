package io.portcullis.translator;

import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.validation.ValidatedPolicies;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** The result of translating one resource snapshot for a set of identities, every stage kept for inspection. */
public record Translation(
        ValidatedPolicies policies,
        SortedMap<ServiceAccountRef, SidecarEgressModel> models,
        SortedMap<ServiceAccountRef, SidecarResources> resources) {

    public Translation {
        models = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(models));
        resources = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(resources));
    }

    public static Translation of(
            ValidatedPolicies policies,
            Map<ServiceAccountRef, SidecarEgressModel> models,
            Map<ServiceAccountRef, SidecarResources> resources) {
        return new Translation(policies, new TreeMap<>(models), new TreeMap<>(resources));
    }
}
