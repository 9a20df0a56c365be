package io.portcullis.ir;

import io.portcullis.validation.PolicyOrigin;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * TLS proxied without terminating it, to the name in the ClientHello's SNI as DNS resolves it.
 *
 * @param serverNames the SNI names allowed, sorted and distinct; never empty (no TLS access is {@code Optional.empty()})
 * @param origins     the policies that allow them, sorted; never empty
 * @param decidedBy   for each server name, the policy the decision log names: the first (in {@link PolicyOrigin}
 *                    order) of those naming it, or a wildcard covering it (Envoy prefers the exact name's chain);
 *                    keys are exactly {@code serverNames}
 */
public record TlsAccess(
        List<String> serverNames, Set<PolicyOrigin> origins, SortedMap<String, PolicyOrigin> decidedBy) {

    public TlsAccess {
        if (serverNames.isEmpty()) {
            throw new IllegalArgumentException("TLS access needs at least one server name; leave it out instead");
        }
        if (origins.isEmpty()) {
            throw new IllegalArgumentException("TLS access to " + serverNames + " must name the policies allowing it");
        }
        serverNames = List.copyOf(new TreeSet<>(serverNames));
        origins = Collections.unmodifiableSortedSet(new TreeSet<>(origins));
        decidedBy = Collections.unmodifiableSortedMap(new TreeMap<>(decidedBy));
        if (!decidedBy.keySet().equals(new TreeSet<>(serverNames))) {
            throw new IllegalArgumentException("TLS access must name the deciding policy of each server name "
                    + serverNames + ", not " + decidedBy.keySet());
        }
    }

    /** Access in which every policy grants every name; the first policy decides. */
    public TlsAccess(List<String> serverNames, Set<PolicyOrigin> origins) {
        this(serverNames, origins, firstForEach(serverNames, origins));
    }

    private static SortedMap<String, PolicyOrigin> firstForEach(List<String> names, Set<PolicyOrigin> origins) {
        SortedMap<String, PolicyOrigin> first = new TreeMap<>();
        if (!origins.isEmpty()) {
            PolicyOrigin decider = new TreeSet<>(origins).first();
            names.forEach(name -> first.put(name, decider));
        }
        return first;
    }
}
