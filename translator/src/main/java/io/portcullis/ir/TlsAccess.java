package io.portcullis.ir;

import io.portcullis.validation.PolicyOrigin;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * TLS proxied without terminating it, to the name in the ClientHello's SNI as DNS resolves it.
 *
 * @param serverNames the SNI names allowed, sorted and distinct; never empty (no TLS access is {@code Optional.empty()})
 * @param origins     the policies that allow them, sorted; never empty
 */
public record TlsAccess(List<String> serverNames, Set<PolicyOrigin> origins) {

    public TlsAccess {
        if (serverNames.isEmpty()) {
            throw new IllegalArgumentException("TLS access needs at least one server name; leave it out instead");
        }
        if (origins.isEmpty()) {
            throw new IllegalArgumentException("TLS access to " + serverNames + " must name the policies allowing it");
        }
        serverNames = List.copyOf(new TreeSet<>(serverNames));
        origins = Collections.unmodifiableSortedSet(new TreeSet<>(origins));
    }
}
