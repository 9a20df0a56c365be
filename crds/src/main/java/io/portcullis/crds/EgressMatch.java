package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Required;

/**
 * Reference to a match resource in the Egress' namespace, e.g. {@code apiGroup:
 * specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: egress-http-route}. Note that FSM's
 * docs put group <em>and version</em> in {@code apiGroup}; the value is kept raw.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"apiGroup", "kind", "name"})
public record EgressMatch(
        @JsonPropertyDescription("API group (FSM docs use group/version) of the referenced resource.")
        String apiGroup,

        @Required @JsonPropertyDescription("Kind of the referenced resource, e.g. HTTPRouteGroup.")
        String kind,

        @Required @JsonPropertyDescription("Name of the referenced resource.")
        String name) {}
