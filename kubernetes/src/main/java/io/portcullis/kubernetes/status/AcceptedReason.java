package io.portcullis.kubernetes.status;

import io.portcullis.validation.PolicyProblem;

/**
 * The {@code reason} of an Egress's or HTTPRouteGroup's {@code Accepted} condition: one CamelCase word
 * per remedy, so a user (or a script) can tell what to do without parsing the message.
 */
public enum AcceptedReason {
    /** Valid and enforced as written. */
    ACCEPTED("Accepted", true),
    /** Enforced, but one of its fields is ignored (e.g. {@code sources[].mtls}); the message says which. */
    FIELD_IGNORED("FieldIgnored", true),
    /** Enforced, but another policy for the same sidecars on the same port voids part of it. */
    PORT_CONFLICT("PortConflict", true),
    /** Not enforced: a field breaks a rule; the message names the field and the fix. */
    INVALID("Invalid", false),
    /** Not enforced: {@code spec.matches[]} names an HTTPRouteGroup that does not exist in its namespace. */
    ROUTE_GROUP_NOT_FOUND("RouteGroupNotFound", false),
    /** Not enforced: {@code spec.matches[]} names an HTTPRouteGroup that is itself not accepted. */
    ROUTE_GROUP_INVALID("RouteGroupInvalid", false),
    /** Not enforced: a regex Envoy would refuse. */
    REGEX_REFUSED("RegexRefused", false),
    /** Valid, but a sidecar's Envoy rejected the config built from it, so it is left out (fail closed). */
    REJECTED_BY_ENVOY("RejectedByEnvoy", false);

    private final String reason;
    private final boolean accepted;

    AcceptedReason(String reason, boolean accepted) {
        this.reason = reason;
        this.accepted = accepted;
    }

    /** The condition's {@code reason} as the API server stores it. */
    public String reason() {
        return reason;
    }

    /** The condition's {@code status}: whether the resource is enforced. */
    public boolean accepted() {
        return accepted;
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
