package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Required;

/** A source of egress traffic, e.g. {@code kind: ServiceAccount, name: curl, namespace: curl}. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"kind", "name", "namespace"})
public record EgressSource(
    @Required @JsonPropertyDescription("Kind of the source, e.g. ServiceAccount.") String kind,
    @Required @JsonPropertyDescription("Name of the source.") String name,
    @Required @JsonPropertyDescription("Namespace of the source.") String namespace) {}
