package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * {@code status} of an {@link Egress} or {@link HTTPRouteGroup}, written through the {@code status}
 * subresource by the elected control plane: whether Portcullis enforces the resource, and why not. The
 * shape is Kubernetes' own ({@code metav1.Condition}), so {@code kubectl wait --for=condition=Accepted}
 * and generic tooling read it.
 *
 * @param observedGeneration the {@code metadata.generation} this status describes; older than the
 *     resource's generation means the control plane has not looked at the latest spec yet
 * @param conditions at most one condition per type; {@value #ACCEPTED} is the one Portcullis writes
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"observedGeneration", "conditions"})
public record PolicyStatus(
        @JsonPropertyDescription("The metadata.generation of the spec this status describes.")
        Long observedGeneration,

        @JsonPropertyDescription(
                "Conditions of the resource; type Accepted says whether Portcullis enforces it, and if not,"
                        + " its reason and message name the field and the fix.")
        List<Condition> conditions) {

    /** Condition type: the resource is valid and enforced ("True"), or refused ("False", reason and message say why). */
    public static final String ACCEPTED = "Accepted";

    /**
     * JSONPath of the {@value #ACCEPTED} condition's status, the {@code Accepted} printer column of both
     * kinds (so {@code kubectl get egress -A} shows it).
     */
    public static final String ACCEPTED_STATUS_PATH = ".status.conditions[?(@.type==\"Accepted\")].status";

    public PolicyStatus {
        conditions = Copies.list(conditions, "status.conditions");
    }
}
