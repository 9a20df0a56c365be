package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import java.util.Map;

/**
 * Spec of FSM's {@link MeshConfig}, reduced to the fields Portcullis acts on. All other fields
 * (sidecar, certificate, observability, ...) are kept in {@link #otherFields()}, in input order,
 * and written back unchanged.
 *
 * @param featureFlags {@code spec.featureFlags} (may be null)
 * @param traffic {@code spec.traffic} (may be null)
 * @param otherFields every other {@code spec.*} field, unmodifiable, never null
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"featureFlags", "traffic"})
@PreserveUnknownFields
public record MeshConfigSpec(
        @JsonPropertyDescription("Feature flags of the mesh.")
        FeatureFlags featureFlags,

        @JsonPropertyDescription("Traffic management configuration of the mesh.")
        Traffic traffic,

        @JsonAnySetter @JsonIgnore Map<String, Object> otherFields) {

    public MeshConfigSpec {
        otherFields = Copies.extra(otherFields);
    }

    public MeshConfigSpec(FeatureFlags featureFlags, Traffic traffic) {
        this(featureFlags, traffic, Map.of());
    }

    @Override
    @JsonAnyGetter
    @JsonIgnore // not a property of its own: its entries are written inline
    public Map<String, Object> otherFields() {
        return otherFields;
    }

    /**
     * Effective egress settings, with secure defaults for absent values:
     *
     * <ul>
     *   <li>{@code featureFlags.enableEgressPolicy} absent: policy enforcement ON. A MeshConfig that
     *       forgot the flag must not silently turn off the Egress policies the operator wrote.
     *   <li>{@code traffic.enableEgress} absent: passthrough OFF. Passthrough lets every workload
     *       reach any external destination, bypassing the policies; it has to be asked for
     *       explicitly, never obtained by omission (fail closed).
     * </ul>
     */
    public EgressSettings egressSettings() {
        boolean enforced = (featureFlags == null || featureFlags.enableEgressPolicy() == null)
                ? EgressSettings.DEFAULTS.policyEnforced()
                : featureFlags.enableEgressPolicy();
        boolean passthrough = (traffic == null || traffic.enableEgress() == null)
                ? EgressSettings.DEFAULTS.passthrough()
                : traffic.enableEgress();
        return new EgressSettings(enforced, passthrough, allowedLogPercent());
    }

    /**
     * {@code spec.observability.egressDecisionLog.allowedSamplePercent}: kept among the fields we do not
     * model (FSM's {@code observability} has other fields, all preserved). A whole number from 0 to 100;
     * anything else (absent, not a number, out of range) logs refusals only, the default: sampling decides
     * how much is written, never what is allowed.
     */
    private int allowedLogPercent() {
        if (otherFields.get("observability") instanceof Map<?, ?> observability
                && observability.get("egressDecisionLog") instanceof Map<?, ?> log
                && log.get("allowedSamplePercent") instanceof Number percent
                && percent.doubleValue() == Math.rint(percent.doubleValue())
                && percent.intValue() >= 0
                && percent.intValue() <= 100) {
            return percent.intValue();
        }
        return 0;
    }
}
