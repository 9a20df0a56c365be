package io.portcullis.validation;

import io.portcullis.input.ResourceKey;

/**
 * Something wrong with one input resource, precise enough to fix without reading our code:
 * which resource, which field (a JSON path into the manifest), and what to do.
 *
 * @param cause what kind of problem it is, for readers that act on the kind rather than the text (the
 *     Kubernetes status condition's reason); the message stays the authority for humans
 */
public record PolicyProblem(Severity severity, ResourceKey resource, String field, String message, Cause cause) {

    public enum Severity {
        /** The resource is skipped entirely; nothing it would allow is allowed. */
        ERROR,
        /** The resource is enforced, but part of it has no effect. */
        WARNING
    }

    /** What kind of problem: each kind has its own remedy, which is why it is kept apart from the message. */
    public enum Cause {
        /** A field breaks a rule of its own (syntax, range, required); the message says which and the fix. */
        INVALID,
        /** An Egress names an HTTPRouteGroup that does not exist in its namespace. */
        ROUTE_GROUP_NOT_FOUND,
        /** An Egress names an HTTPRouteGroup that exists but has errors of its own. */
        ROUTE_GROUP_INVALID,
        /** A regex Envoy would refuse (RE2 syntax, program size, empty). */
        REGEX_REFUSED,
        /** Policies for one identity clash on a port, so part of one has no effect there. */
        PORT_CONFLICT,
        /** A field is ignored; the rest of the resource is enforced. */
        IGNORED
    }

    public PolicyProblem {
        cause = cause == null ? (severity == Severity.ERROR ? Cause.INVALID : Cause.IGNORED) : cause;
    }

    /** A problem of the default cause for its severity: {@link Cause#INVALID} or {@link Cause#IGNORED}. */
    public PolicyProblem(Severity severity, ResourceKey resource, String field, String message) {
        this(severity, resource, field, message, null);
    }

    public static PolicyProblem error(ResourceKey resource, String field, String message) {
        return new PolicyProblem(Severity.ERROR, resource, field, message, Cause.INVALID);
    }

    public static PolicyProblem error(Cause cause, ResourceKey resource, String field, String message) {
        return new PolicyProblem(Severity.ERROR, resource, field, message, cause);
    }

    public static PolicyProblem warning(ResourceKey resource, String field, String message) {
        return new PolicyProblem(Severity.WARNING, resource, field, message, Cause.IGNORED);
    }

    public static PolicyProblem warning(Cause cause, ResourceKey resource, String field, String message) {
        return new PolicyProblem(Severity.WARNING, resource, field, message, cause);
    }

    @Override
    public String toString() {
        return severity + " " + resource + " " + field + ": " + message;
    }
}
