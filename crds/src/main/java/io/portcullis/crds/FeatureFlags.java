package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import java.util.Map;

/**
 * {@code MeshConfig.spec.featureFlags}; only {@code enableEgressPolicy} is modelled, the other
 * flags are kept in {@link #otherFields()} and written back unchanged.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@PreserveUnknownFields
public record FeatureFlags(
        @JsonPropertyDescription("Whether Egress policies are enforced.")
        Boolean enableEgressPolicy,

        @JsonAnySetter @JsonIgnore Map<String, Object> otherFields) {

    public FeatureFlags {
        otherFields = Copies.extra(otherFields);
    }

    public FeatureFlags(Boolean enableEgressPolicy) {
        this(enableEgressPolicy, Map.of());
    }

    @Override
    @JsonAnyGetter
    @JsonIgnore // not a property of its own: its entries are written inline
    public Map<String, Object> otherFields() {
        return otherFields;
    }
}
