package io.portcullis.identity;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Puts what the transport knows about the caller into the call's {@link Context} as a
 * {@link PeerAuthentication}: its verified client certificate on a TLS server, or, on a server built
 * for plaintext, that it is plaintext.
 */
public final class PeerCertificateInterceptor implements ServerInterceptor {

    private final String trustDomain;
    private final boolean plaintext;

    private PeerCertificateInterceptor(String trustDomain, boolean plaintext) {
        this.trustDomain = trustDomain;
        this.plaintext = plaintext;
    }

    /** For a server that requires TLS client certificates from the mesh CA. */
    public static PeerCertificateInterceptor mutualTls(String trustDomain) {
        SpiffeId.requireTrustDomain(trustDomain);
        return new PeerCertificateInterceptor(trustDomain, false);
    }

    /** For a plaintext server: every call is marked as trusting its node id. */
    public static PeerCertificateInterceptor plaintext() {
        return new PeerCertificateInterceptor(null, true);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String remote = PeerAuthentication.describe(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        PeerAuthentication peer = plaintext
                ? new PeerAuthentication.PlaintextTrustingNodeId(remote)
                : fromSession(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION), remote);
        return Contexts.interceptCall(Context.current().withValue(PeerAuthentication.KEY, peer), call, headers, next);
    }

    private PeerAuthentication fromSession(SSLSession session, String remote) {
        if (session == null) {
            return new PeerAuthentication.NoCertificate(remote);
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
                return new PeerAuthentication.Certificate(leaf, trustDomain, remote);
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate
        }
        return new PeerAuthentication.NoCertificate(remote);
    }
}
