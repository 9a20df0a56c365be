package io.portcullis.identity;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * TLS for the xDS server: a server certificate from the mesh CA naming {@code serverNames} (renewed
 * in memory at half-life), and a required client certificate that chains to the same CA. Who the
 * client is (its SPIFFE ID) is decided later, per stream, by SidecarIdentity.
 */
public record XdsServerTls(CertificateAuthority ca, List<String> serverNames, Duration validity, String trustDomain) {

    public XdsServerTls {
        serverNames = List.copyOf(serverNames);
        if (serverNames.isEmpty()) {
            throw new IllegalArgumentException(
                    "the xDS server certificate needs a host name or IP address sidecars dial;"
                            + " pass --xds-server-name (repeatable), or a specific --xds-address");
        }
        SpiffeId.requireTrustDomain(trustDomain);
    }

    public SslContext sslContext(Clock clock) {
        RenewingKeyManager keys = new RenewingKeyManager(() -> ca.issueServer(serverNames, validity), clock);
        try {
            return GrpcSslContexts.configure(SslContextBuilder.forServer(keys))
                    .trustManager(ca.certificate())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the xDS server's TLS context: " + e.getMessage(), e);
        }
    }

    public PeerCertificateInterceptor interceptor() {
        return PeerCertificateInterceptor.mutualTls(trustDomain);
    }
}
