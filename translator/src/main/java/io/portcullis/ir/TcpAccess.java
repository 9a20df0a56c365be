package io.portcullis.ir;

import io.portcullis.validation.Cidr;
import java.util.List;
import java.util.Set;

/**
 * Plain TCP forwarded to the address the client dialled.
 *
 * @param anyAddress true when some policy gives no IP range: every address on the port is allowed
 * @param ranges     the union of all policies' ranges; empty when {@code anyAddress}
 * @param origins    the policies that allow it, for the config dump and denial logs
 */
public record TcpAccess(boolean anyAddress, List<Cidr> ranges, Set<String> origins) {

    public TcpAccess {
        ranges = List.copyOf(ranges);
        origins = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(origins));
    }
}
