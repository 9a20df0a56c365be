package io.portcullis.ir;

import io.portcullis.validation.Cidr;
import io.portcullis.validation.PolicyOrigin;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Plain TCP forwarded to the address the client dialled.
 *
 * @param anyAddress true when some policy gives no IP range: every address on the port is allowed
 * @param ranges     the union of all policies' ranges; empty exactly when {@code anyAddress}
 * @param origins    the policies that allow it, sorted, for the config dump and denial logs; never empty
 */
public record TcpAccess(boolean anyAddress, List<Cidr> ranges, Set<PolicyOrigin> origins) {

    public TcpAccess {
        ranges = List.copyOf(ranges);
        origins = Collections.unmodifiableSortedSet(new TreeSet<>(origins));
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
    }
}
