package io.portcullis.ir;

import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One host reachable over plain HTTP on a port.
 *
 * @param anyRequest   true when some policy allows the host without route matches
 * @param matches      the union of the route matches of all policies for this host; dropped when {@code anyRequest},
 *                     never empty otherwise (a host no request may reach is not reachable)
 * @param origins      the policies that allow the host, sorted; never empty
 * @param decidedBy    the policy the decision log names for the host as a whole: with {@code anyRequest} the first
 *                     (in {@link PolicyOrigin} order) allowing any request, else the first restricting its requests
 *                     (it decides a request no match accepts)
 * @param matchPolicies for each of {@code matches}, the first policy naming it
 */
public record HttpHostAccess(
        String host,
        boolean anyRequest,
        List<HttpRequestMatch> matches,
        Set<PolicyOrigin> origins,
        PolicyOrigin decidedBy,
        Map<HttpRequestMatch, PolicyOrigin> matchPolicies) {

    public HttpHostAccess {
        matches = anyRequest ? List.of() : List.copyOf(matches);
        origins = Collections.unmodifiableSortedSet(new TreeSet<>(origins));
        if (!anyRequest && matches.isEmpty()) {
            throw new IllegalArgumentException("HTTP access to " + host + " needs route matches or anyRequest");
        }
        if (origins.isEmpty()) {
            throw new IllegalArgumentException("HTTP access to " + host + " must name the policies allowing it");
        }
        if (decidedBy == null) {
            decidedBy = origins.iterator().next();
        }
        if (!origins.contains(decidedBy)) {
            throw new IllegalArgumentException(
                    "HTTP access to " + host + " is decided by " + decidedBy + ", which is not among " + origins);
        }
        Map<HttpRequestMatch, PolicyOrigin> policies = new LinkedHashMap<>();
        for (HttpRequestMatch match : matches) {
            policies.put(match, matchPolicies.getOrDefault(match, decidedBy));
        }
        matchPolicies = Collections.unmodifiableMap(policies);
    }

    /** Access in which the first policy decides everything. */
    public HttpHostAccess(String host, boolean anyRequest, List<HttpRequestMatch> matches, Set<PolicyOrigin> origins) {
        this(host, anyRequest, matches, origins, null, Map.of());
    }

    public boolean wildcard() {
        return host.startsWith("*.");
    }
}
