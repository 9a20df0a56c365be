package io.portcullis.ir;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything one identity may do on one destination port, merged across all of its policies. The
 * constructor refuses the combinations the listener cannot express, so the Envoy builders never see one.
 *
 * @param serverFirst true when the port must not wait for client bytes (no TLS inspection there); needs {@code tcp}
 * @param tcp         raw TCP to the dialled address, when some tcp or tcp-server-first policy allows it
 * @param httpHosts   hosts reachable over HTTP, matched by Host header, sorted by host, one entry per host
 * @param tls         hosts reachable over TLS, matched by SNI
 * @param audit       true when an Egress naming this port for the identity is annotated
 *                    {@code portcullis.io/egress-mode: audit}: what strict mode would refuse on this port is let
 *                    through and logged {@code would_deny}
 */
public record PortPlan(
        int port,
        boolean serverFirst,
        Optional<TcpAccess> tcp,
        List<HttpHostAccess> httpHosts,
        Optional<TlsAccess> tls,
        boolean audit) {

    /** An enforced port. */
    public PortPlan(
            int port,
            boolean serverFirst,
            Optional<TcpAccess> tcp,
            List<HttpHostAccess> httpHosts,
            Optional<TlsAccess> tls) {
        this(port, serverFirst, tcp, httpHosts, tls, false);
    }

    public PortPlan {
        Objects.requireNonNull(tcp, "tcp");
        Objects.requireNonNull(tls, "tls");
        httpHosts = httpHosts.stream()
                .sorted(Comparator.comparing(HttpHostAccess::host))
                .toList();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port (1-65535)");
        }
        if (tcp.isEmpty() && httpHosts.isEmpty() && tls.isEmpty()) {
            throw new IllegalArgumentException("port " + port + " allows nothing; leave it out of the model");
        }
        if (serverFirst && (tcp.isEmpty() || tls.isPresent())) {
            // Server-first comes only from a tcp-server-first policy, and on such a port the listener
            // cannot wait for a ClientHello, so SNI is never seen.
            throw new IllegalArgumentException(
                    "server-first port " + port + " needs TCP access and cannot match TLS SNI");
        }
        if (tcp.isPresent() && tcp.get().anyAddress() && (!httpHosts.isEmpty() || tls.isPresent())) {
            // TCP to any address already takes every connection on the port; a host chain would have
            // the same match, which Envoy rejects.
            throw new IllegalArgumentException(
                    "port " + port + " allows TCP to any address, so it cannot also list HTTP or TLS hosts");
        }
        for (int i = 1; i < httpHosts.size(); i++) {
            if (httpHosts.get(i - 1).host().equals(httpHosts.get(i).host())) {
                throw new IllegalArgumentException(
                        "port " + port + " lists HTTP host " + httpHosts.get(i).host() + " twice; merge its access");
            }
        }
    }
}
