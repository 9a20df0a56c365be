package io.portcullis.debug;

import io.portcullis.identity.SpiffeId;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * Who may read the debug endpoint, which shows every identity's config. Without a bearer token or
 * client certificates it may only listen on loopback.
 *
 * @param bearerToken when present, every request must carry {@code Authorization: Bearer <token>}
 * @param tls when present, HTTPS with a required client certificate from the mesh CA whose SPIFFE ID
 *     is one of {@code clients}
 */
public record DebugAccess(Optional<String> bearerToken, Optional<SSLContext> tls, Set<SpiffeId> clients) {

    public DebugAccess {
        clients = Set.copyOf(clients);
        if (bearerToken.isPresent() && bearerToken.get().isBlank()) {
            throw new IllegalArgumentException("the debug bearer token is empty");
        }
        if (tls.isPresent() && clients.isEmpty()) {
            throw new IllegalArgumentException("debug endpoint TLS needs at least one client identity allowed in");
        }
    }

    /** No authentication: loopback only. */
    public static DebugAccess loopbackOnly() {
        return new DebugAccess(Optional.empty(), Optional.empty(), Set.of());
    }

    public boolean authenticates() {
        return bearerToken.isPresent() || tls.isPresent();
    }
}
