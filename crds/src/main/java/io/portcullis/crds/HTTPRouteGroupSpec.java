package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * Spec of an {@link HTTPRouteGroup}. SMI {@code specs.smi-spec.io/v1alpha4} has exactly one spec
 * field, {@code matches} (there is no {@code spec.defaults} in v1alpha4). Null becomes {@code
 * List.of()}.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public record HTTPRouteGroupSpec(
        @Required @Size(min = 1) @JsonPropertyDescription("Named HTTP match conditions of this route group.")
        List<HttpMatch> matches) {

    public HTTPRouteGroupSpec {
        matches = Copies.list(matches, "matches");
    }
}
