package io.portcullis.envoy;

import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import java.util.List;

/**
 * All that {@link SidecarResourceBuilder} builds an identity's Envoy resources from: its model without the identity
 * (Envoy reads that from its node metadata) and without the merge conflicts (warnings for people, not config).
 * Two identities whose models are equal here are served equal resources, so the control plane builds them once.
 *
 * @param kind     which {@link SidecarEgressModel} it is: passthrough, deny-all or policy
 * @param ports    the policy model's port plans; empty for the others
 * @param audit    whether refusals are let through and logged would_deny (deny-all and policy models)
 * @param allowedLogPercent of allowed traffic logged (policy models); 0 for the others
 */
public record ModelWithoutIdentity(String kind, List<PortPlan> ports, boolean audit, int allowedLogPercent) {

    public ModelWithoutIdentity {
        ports = List.copyOf(ports);
    }

    public static ModelWithoutIdentity of(SidecarEgressModel model) {
        return switch (model) {
            case SidecarEgressModel.Passthrough passthrough ->
                new ModelWithoutIdentity("passthrough", List.of(), false, 0);
            case SidecarEgressModel.DenyAll denyAll ->
                new ModelWithoutIdentity("deny-all", List.of(), denyAll.audit(), 0);
            case SidecarEgressModel.PolicyEnforced policy ->
                new ModelWithoutIdentity("policy", policy.ports(), policy.audit(), policy.allowedLogPercent());
        };
    }
}
