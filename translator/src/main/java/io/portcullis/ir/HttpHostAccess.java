package io.portcullis.ir;

import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One host reachable over plain HTTP on a port.
 *
 * @param anyRequest true when some policy allows the host without route matches
 * @param matches    the union of the route matches of all policies for this host; dropped when {@code anyRequest},
 *                   never empty otherwise (a host no request may reach is not reachable)
 * @param origins    the policies that allow the host, sorted; never empty
 */
public record HttpHostAccess(
        String host, boolean anyRequest, List<HttpRequestMatch> matches, Set<PolicyOrigin> origins) {

    public HttpHostAccess {
        matches = anyRequest ? List.of() : List.copyOf(matches);
        origins = Collections.unmodifiableSortedSet(new TreeSet<>(origins));
        if (!anyRequest && matches.isEmpty()) {
            throw new IllegalArgumentException("HTTP access to " + host + " needs route matches or anyRequest");
        }
        if (origins.isEmpty()) {
            throw new IllegalArgumentException("HTTP access to " + host + " must name the policies allowing it");
        }
    }

    public boolean wildcard() {
        return host.startsWith("*.");
    }
}
