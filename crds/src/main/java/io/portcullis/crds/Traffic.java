package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import java.util.Map;

/**
 * {@code MeshConfig.spec.traffic}; only {@code enableEgress} (mesh-wide egress passthrough) is
 * modelled, the other fields are kept in {@link #otherFields()} and written back unchanged.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@PreserveUnknownFields
public record Traffic(
        @JsonPropertyDescription(
                "Mesh-wide egress passthrough: any external destination is reachable, bypassing" + " Egress policies.")
        Boolean enableEgress,

        @JsonAnySetter @JsonIgnore Map<String, Object> otherFields) {

    public Traffic {
        otherFields = Copies.extra(otherFields);
    }

    public Traffic(Boolean enableEgress) {
        this(enableEgress, Map.of());
    }

    @Override
    @JsonAnyGetter
    @JsonIgnore // not a property of its own: its entries are written inline
    public Map<String, Object> otherFields() {
        return otherFields;
    }
}
