package io.portcullis.kubernetes.status;

import io.portcullis.validation.PolicyProblem;

/**
 * The {@code reason} of an Egress's or HTTPRouteGroup's {@code Accepted} condition: one CamelCase word
 * per remedy, so a user (or a script) can tell what to do without parsing the message. Whether the
 * condition is True is decided apart from it (by the problems' severity): a port clash is a warning when
 * merging policies voids part of one, and an error when one policy contradicts itself.
 */
public enum AcceptedReason {
    /** Valid and enforced as written. */
    ACCEPTED("Accepted"),
    /** Enforced, but one of its fields is ignored (e.g. {@code sources[].mtls}); the message says which. */
    FIELD_IGNORED("FieldIgnored"),
    /**
     * Policies clash on a port: another policy for the same sidecars voids part of this one (enforced), or
     * this one lists a port twice in ways that cannot both hold (not enforced).
     */
    PORT_CONFLICT("PortConflict"),
    /** Not enforced: a field breaks a rule; the message names the field and the fix. */
    INVALID("Invalid"),
    /** Not enforced: {@code spec.matches[]} names an HTTPRouteGroup that does not exist in its namespace. */
    ROUTE_GROUP_NOT_FOUND("RouteGroupNotFound"),
    /** Not enforced: {@code spec.matches[]} names an HTTPRouteGroup that is itself not accepted. */
    ROUTE_GROUP_INVALID("RouteGroupInvalid"),
    /** Not enforced: a regex Envoy would refuse. */
    REGEX_REFUSED("RegexRefused"),
    /** Valid, but a sidecar's Envoy rejected the config built from it, so it is left out (fail closed). */
    REJECTED_BY_ENVOY("RejectedByEnvoy");

    private final String reason;

    AcceptedReason(String reason) {
        this.reason = reason;
    }

    /** The condition's {@code reason} as the API server stores it. */
    public String reason() {
        return reason;
    }

    static AcceptedReason of(PolicyProblem.Cause cause) {
        return switch (cause) {
            case INVALID -> INVALID;
            case ROUTE_GROUP_NOT_FOUND -> ROUTE_GROUP_NOT_FOUND;
            case ROUTE_GROUP_INVALID -> ROUTE_GROUP_INVALID;
            case REGEX_REFUSED -> REGEX_REFUSED;
            case PORT_CONFLICT -> PORT_CONFLICT;
            case IGNORED -> FIELD_IGNORED;
        };
    }
}
