package io.portcullis.envoy;

import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import java.util.List;
import java.util.Objects;

/**
 * All that {@link SidecarResourceBuilder} builds an identity's Envoy resources from: its model without the identity
 * (Envoy reads that from its node metadata) and without the merge conflicts (warnings for people, not config).
 * Two identities whose models are equal here are served equal resources, so the control plane builds them once.
 */
public final class ModelWithoutIdentity {

    private final String kind;
    private final List<PortPlan> ports;
    private final boolean audit;
    /**
     * Computed once: the control plane looks a build up by this key for every identity it serves on every change,
     * and a record's hash walked every port plan, host and match each time (a quarter of a one-policy change's
     * CPU at 10,000 policies). Every part is immutable, so the hash never goes stale.
     */
    private final int hash;

    /**
     * @param kind which {@link SidecarEgressModel} it is: passthrough, deny-all or policy
     * @param ports the policy model's port plans; empty for the others
     * @param audit whether refusals are let through and logged would_deny (deny-all and policy models)
     */
    public ModelWithoutIdentity(String kind, List<PortPlan> ports, boolean audit) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.ports = List.copyOf(ports);
        this.audit = audit;
        this.hash = Objects.hash(kind, this.ports, audit);
    }

    public static ModelWithoutIdentity of(SidecarEgressModel model) {
        return switch (model) {
            case SidecarEgressModel.Passthrough passthrough ->
                new ModelWithoutIdentity("passthrough", List.of(), false);
            case SidecarEgressModel.DenyAll denyAll -> new ModelWithoutIdentity("deny-all", List.of(), denyAll.audit());
            case SidecarEgressModel.PolicyEnforced policy ->
                new ModelWithoutIdentity("policy", policy.ports(), policy.audit());
        };
    }

    public String kind() {
        return kind;
    }

    public List<PortPlan> ports() {
        return ports;
    }

    public boolean audit() {
        return audit;
    }

    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        return other instanceof ModelWithoutIdentity that
                && hash == that.hash // different hashes: no walk of the port plans
                && audit == that.audit
                && kind.equals(that.kind)
                && ports.equals(that.ports);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "ModelWithoutIdentity[kind=" + kind + ", ports=" + ports + ", audit=" + audit + "]";
    }
}
