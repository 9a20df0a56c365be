package io.portcullis.validation;

import io.portcullis.input.ResourceKey;

/**
 * Something wrong with one input resource, precise enough to fix without reading our code:
 * which resource, which field (a JSON path into the manifest), and what to do.
 */
public record PolicyProblem(Severity severity, ResourceKey resource, String field, String message) {

    public enum Severity {
        /** The resource is skipped entirely; nothing it would allow is allowed. */
        ERROR,
        /** The resource is enforced, but part of it has no effect. */
        WARNING
    }

    public static PolicyProblem error(ResourceKey resource, String field, String message) {
        return new PolicyProblem(Severity.ERROR, resource, field, message);
    }

    public static PolicyProblem warning(ResourceKey resource, String field, String message) {
        return new PolicyProblem(Severity.WARNING, resource, field, message);
    }

    @Override
    public String toString() {
        return severity + " " + resource + " " + field + ": " + message;
    }
}
