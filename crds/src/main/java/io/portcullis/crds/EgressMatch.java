package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Reference to a match resource in the Egress' namespace, e.g. {@code apiGroup:
 * specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: egress-http-route}. Note that FSM's
 * docs put group <em>and version</em> in {@code apiGroup}; the value is kept raw.
 *
 * <p>The CRD admits the pairs FSM's validating webhook admits (an SMI HTTPRouteGroup, or FSM's
 * UpstreamTrafficSetting), so an FSM manifest is stored as written; that Portcullis enforces only the first
 * is said by its admission webhook and the Egress' status, with the fix.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"apiGroup", "kind", "name"})
@ValidationRule(
        // only when both are there: a missing one is reported as missing, not as a CEL "no such key" error
        value = "!has(self.apiGroup) || !has(self.kind) || (self.apiGroup == '" + EgressMatch.SMI_SPECS_V1ALPHA4
                + "') == (self.kind == '" + HTTPRouteGroup.KIND + "')",
        message = "kind HTTPRouteGroup goes with apiGroup " + EgressMatch.SMI_SPECS_V1ALPHA4
                + ", kind UpstreamTrafficSetting with apiGroup " + EgressMatch.POLICY_V1ALPHA1,
        reason = "FieldValueInvalid",
        fieldPath = ".kind")
public record EgressMatch(
        @Required
        @SchemaFrom(type = ApiGroup.class)
        @JsonPropertyDescription(
                "Group and version (as FSM writes it) of the referenced resource: specs.smi-spec.io/v1alpha4 for"
                        + " an HTTPRouteGroup.")
        String apiGroup,

        @Required
        @SchemaFrom(type = Kind.class)
        @JsonPropertyDescription("Kind of the referenced resource, e.g. HTTPRouteGroup.")
        String kind,

        @Required @JsonPropertyDescription("Name of the referenced resource.")
        String name) {

    static final String SMI_SPECS_V1ALPHA4 = HTTPRouteGroup.GROUP + "/" + HTTPRouteGroup.VERSION;
    static final String POLICY_V1ALPHA1 = Egress.GROUP + "/" + Egress.VERSION;

    /** The {@code apiGroup} values FSM's webhook admits, as the CRD schema's enum. */
    enum ApiGroup {
        @JsonProperty(SMI_SPECS_V1ALPHA4)
        SMI_SPECS,
        @JsonProperty(POLICY_V1ALPHA1)
        FLOMESH_POLICY
    }

    /** The {@code kind} values FSM's webhook admits, as the CRD schema's enum. */
    enum Kind {
        HTTPRouteGroup,
        UpstreamTrafficSetting
    }
}
