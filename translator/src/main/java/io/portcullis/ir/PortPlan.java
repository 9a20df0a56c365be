package io.portcullis.ir;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything one identity may do on one destination port, merged across all of its policies.
 *
 * @param serverFirst true when the port must not wait for client bytes (no TLS inspection there)
 * @param tcp         raw TCP to the dialled address, when some tcp or tcp-server-first policy allows it
 * @param httpHosts   hosts reachable over HTTP, matched by Host header, sorted by host
 * @param tlsHosts    hosts reachable over TLS, matched by SNI, sorted
 */
public record PortPlan(
        int port,
        boolean serverFirst,
        Optional<TcpAccess> tcp,
        List<HttpHostAccess> httpHosts,
        List<String> tlsHosts,
        Set<String> tlsOrigins) {

    public PortPlan {
        httpHosts = List.copyOf(httpHosts);
        tlsHosts = List.copyOf(tlsHosts);
        tlsOrigins = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(tlsOrigins));
    }
}
