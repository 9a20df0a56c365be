package io.portcullis.identity;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A JDK {@link SSLContext} for an HTTPS server of the control plane (the debug endpoint): certificate from the CA, clients checked against it. */
public final class JdkServerTls {

    private JdkServerTls() {}

    public static SSLContext serverContext(
            CertificateAuthority ca, List<String> serverNames, Duration validity, Clock clock) {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("mesh-ca", ca.certificate());
            TrustManagerFactory trustManagers =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(
                    new KeyManager[] {new RenewingKeyManager(() -> ca.issueServer(serverNames, validity), clock)},
                    trustManagers.getTrustManagers(),
                    new SecureRandom());
            return context;
        } catch (java.io.IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context from the mesh CA: " + e.getMessage(), e);
        }
    }
}
