package io.portcullis.ir;

import io.portcullis.validation.Cidr;
import io.portcullis.validation.PolicyOrigin;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Plain TCP forwarded to the address the client dialled.
 *
 * @param anyAddress true when some policy gives no IP range: every address on the port is allowed
 * @param ranges     the union of all policies' ranges; empty exactly when {@code anyAddress}
 * @param origins    the policies that allow it, sorted, for the config dump and denial logs; never empty. With
 *                   {@code anyAddress}, only the policies allowing any address: ranged ones add nothing
 * @param decidedBy  for each range, the policy the decision log names for it: the first (in {@link PolicyOrigin}
 *                   order) of the policies whose ranges contain it, since Envoy takes the most specific range;
 *                   keys are exactly {@code ranges}
 */
public record TcpAccess(
        boolean anyAddress, List<Cidr> ranges, Set<PolicyOrigin> origins, SortedMap<Cidr, PolicyOrigin> decidedBy) {

    public TcpAccess {
        ranges = List.copyOf(ranges);
        origins = Collections.unmodifiableSortedSet(new TreeSet<>(origins));
        decidedBy = Collections.unmodifiableSortedMap(new TreeMap<>(decidedBy));
        // Ranges next to "any address" would look like a restriction that is not there; no ranges and
        // no "any address" would be a chain that matches every address anyway.
        if (anyAddress != ranges.isEmpty()) {
            throw new IllegalArgumentException(
                    anyAddress
                            ? "TCP access to any address cannot also list ranges " + ranges
                            : "TCP access limited to ranges needs at least one range");
        }
        if (origins.isEmpty()) {
            throw new IllegalArgumentException("TCP access must name the policies allowing it");
        }
        if (!decidedBy.keySet().equals(new TreeSet<>(ranges))) {
            throw new IllegalArgumentException(
                    "TCP access must name the deciding policy of each range " + ranges + ", not " + decidedBy.keySet());
        }
    }

    /** Access in which every policy grants every range; the first policy decides. */
    public TcpAccess(boolean anyAddress, List<Cidr> ranges, Set<PolicyOrigin> origins) {
        this(anyAddress, ranges, origins, firstForEach(ranges, origins));
    }

    /** The policy the decision log names for connections to any address (when {@code anyAddress}). */
    public PolicyOrigin anyAddressPolicy() {
        return origins.iterator().next();
    }

    private static SortedMap<Cidr, PolicyOrigin> firstForEach(List<Cidr> ranges, Set<PolicyOrigin> origins) {
        SortedMap<Cidr, PolicyOrigin> first = new TreeMap<>();
        PolicyOrigin decider = origins.isEmpty() ? null : new TreeSet<>(origins).first();
        if (decider != null) {
            ranges.forEach(range -> first.put(range, decider));
        }
        return first;
    }
}
