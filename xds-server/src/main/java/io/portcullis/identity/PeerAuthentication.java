package io.portcullis.identity;

import io.grpc.Context;
import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * What the transport proved about the peer of an xDS call, captured by {@link PeerCertificateInterceptor}
 * into the gRPC {@link Context} of the call, where java-control-plane's stream callbacks (which run
 * inside it) read it. {@link io.portcullis.xds.SidecarIdentity} decides what it means.
 */
public sealed interface PeerAuthentication {

    Context.Key<PeerAuthentication> KEY = Context.key("portcullis-peer-authentication");

    /** Where the call came from, for log lines. */
    String remoteAddress();

    /** The peer presented this certificate, which the TLS handshake verified against the mesh CA. */
    record Certificate(X509Certificate leaf, String trustDomain, String remoteAddress) implements PeerAuthentication {
        public Certificate {
            Objects.requireNonNull(leaf, "leaf");
            Objects.requireNonNull(trustDomain, "trustDomain");
        }
    }

    /** A TLS call without a verified client certificate (cannot happen with client auth REQUIRED, refused anyway). */
    record NoCertificate(String remoteAddress) implements PeerAuthentication {}

    /**
     * Plaintext xDS, which trusts the node id: only on a server built for it (unit tests, or the
     * loudly logged development flag restricted to loopback).
     */
    record PlaintextTrustingNodeId(String remoteAddress) implements PeerAuthentication {}

    /** The authentication of the call being processed; {@code null} outside any intercepted call. */
    static PeerAuthentication current() {
        return KEY.get();
    }

    static String describe(SocketAddress address) {
        return address == null ? "unknown address" : address.toString().replaceFirst("^/", "");
    }
}
