package io.portcullis.ir;

import io.portcullis.validation.HttpRequestMatch;
import java.util.List;
import java.util.Set;

/**
 * One host reachable over plain HTTP on a port.
 *
 * @param anyRequest true when some policy allows the host without route matches
 * @param matches    the union of the route matches of all policies for this host; ignored when {@code anyRequest}
 */
public record HttpHostAccess(String host, boolean anyRequest, List<HttpRequestMatch> matches, Set<String> origins) {

    public HttpHostAccess {
        matches = anyRequest ? List.of() : List.copyOf(matches);
        origins = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(origins));
    }

    public boolean wildcard() {
        return host.startsWith("*.");
    }
}
