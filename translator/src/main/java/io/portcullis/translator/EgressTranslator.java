package io.portcullis.translator;

import io.portcullis.envoy.SidecarResourceBuilder;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.ir.SidecarModelBuilder;
import io.portcullis.validation.PolicyValidator;
import io.portcullis.validation.ValidatedPolicies;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * Pure and deterministic: resource snapshot → validation → per-identity model → Envoy resources.
 * No I/O, no clock, no shared state, so the same input always yields byte-identical output.
 */
public final class EgressTranslator {

    private final PolicyValidator validator = new PolicyValidator();
    private final SidecarModelBuilder models = new SidecarModelBuilder();
    private final SidecarResourceBuilder envoy = new SidecarResourceBuilder();

    public ValidatedPolicies validate(ResourceSnapshot snapshot) {
        return validator.validate(snapshot);
    }

    public SidecarEgressModel model(ValidatedPolicies policies, ServiceAccountRef identity) {
        return models.build(policies, identity);
    }

    public SidecarResources resources(SidecarEgressModel model) {
        return envoy.build(model);
    }

    /**
     * A new config is being translated: pieces of Envoy resources kept for reuse ({@link SidecarResourceBuilder})
     * that neither this config's builds nor the previous config's used are dropped from now on. A long-lived
     * translator (the control plane's) calls it once per config change, so what it keeps stays bounded.
     */
    public void nextGeneration() {
        envoy.nextGeneration();
    }

    /** Translates for the given identities; identities no policy names get the deny-everything config. */
    public Translation translate(ResourceSnapshot snapshot, Collection<ServiceAccountRef> identities) {
        return translate(validate(snapshot), identities);
    }

    /** As {@link #translate(ResourceSnapshot, Collection)}, for policies already validated (e.g. to list their identities). */
    public Translation translate(ValidatedPolicies policies, Collection<ServiceAccountRef> identities) {
        Map<ServiceAccountRef, SidecarEgressModel> byIdentity = new TreeMap<>();
        Map<ServiceAccountRef, SidecarResources> resources = new TreeMap<>();
        for (ServiceAccountRef identity : identities) {
            SidecarEgressModel model = model(policies, identity);
            byIdentity.put(identity, model);
            resources.put(identity, resources(model));
        }
        return Translation.of(policies, byIdentity, resources);
    }
}
