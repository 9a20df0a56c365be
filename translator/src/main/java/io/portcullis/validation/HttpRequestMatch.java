package io.portcullis.validation;

import java.util.List;
import java.util.Map;

/**
 * One validated entry of an HTTPRouteGroup's {@code spec.matches}. Every part must hold for a request
 * to match; an absent part matches anything.
 *
 * @param origin    the HTTPRouteGroup entry it was read from, carried into Envoy route names
 * @param pathRegex RE2, matched against the whole path without the query string; null for any path
 * @param methods   upper-case methods; empty for any method
 * @param headers   lower-case header name to RE2 value regex
 */
public record HttpRequestMatch(
        HttpMatchOrigin origin, String pathRegex, List<String> methods, Map<String, String> headers) {

    public HttpRequestMatch {
        methods = List.copyOf(methods);
        headers = Map.copyOf(headers);
    }
}
