package io.portcullis.identity;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Presents a server certificate from the CA and replaces it with a fresh one once half its validity
 * has passed, so a control plane that runs for weeks never serves an expired certificate with
 * short-lived ones. Each certificate gets its own alias, so a TLS stack that caches key material by
 * alias picks up the new one.
 */
final class RenewingKeyManager extends X509ExtendedKeyManager {

    private record Current(String alias, IssuedCertificate issued, Instant renewAfter) {}

    private final Supplier<IssuedCertificate> issue;
    private final Clock clock;
    private volatile Current current;
    private volatile Current previous;

    RenewingKeyManager(Supplier<IssuedCertificate> issue, Clock clock) {
        this.issue = issue;
        this.clock = clock;
        this.current = next();
        this.previous = current;
    }

    /** The certificate new handshakes get. */
    IssuedCertificate certificate() {
        return current().issued();
    }

    // ReferenceEquality: identity is the point; only the thread that saw this very Current renews it.
    @SuppressWarnings("ReferenceEquality")
    private Current current() {
        Current c = current;
        if (clock.instant().isAfter(c.renewAfter())) {
            synchronized (this) {
                if (current == c) {
                    previous = c;
                    current = next();
                }
                c = current;
            }
        }
        return c;
    }

    private Current next() {
        IssuedCertificate issued = issue.get();
        Instant from = issued.certificate().getNotBefore().toInstant();
        Instant to = issued.certificate().getNotAfter().toInstant();
        Instant half = from.plus(java.time.Duration.between(from, to).dividedBy(2));
        return new Current("xds-" + issued.serialHex(), issued, half);
    }

    private String serverAlias(String keyType) {
        // Our keys are EC; answer only for EC key types so the TLS stack picks a matching signature scheme.
        return keyType != null && keyType.startsWith("EC") ? current().alias() : null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return serverAlias(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return serverAlias(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String alias = serverAlias(keyType);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Current c = find(alias);
        return c == null ? null : new X509Certificate[] {c.issued().certificate()};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Current c = find(alias);
        return c == null ? null : c.issued().privateKey();
    }

    private Current find(String alias) {
        for (Current c : new Current[] {current, previous}) {
            if (c.alias().equals(alias)) {
                return c;
            }
        }
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
