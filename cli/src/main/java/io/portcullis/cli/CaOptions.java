package io.portcullis.cli;

import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.SpiffeId;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Which certificate authority to issue with: a CA directory (generated on first use) or the operator's CA files. */
final class CaOptions {

    @Option(
            names = "--ca-dir",
            description = "CA directory: the CA is generated there on first use (ca.pem, ca-key.pem mode 0600)"
                    + " and loaded afterwards. Control planes and bootstraps given the same directory share one CA.")
    Path caDir;

    @Option(
            names = "--ca-cert",
            description = "The operator's CA certificate (PEM), instead of --ca-dir; needs --ca-key.")
    Path caCert;

    @Option(names = "--ca-key", description = "The private key (PEM) of --ca-cert.")
    Path caKey;

    @Option(
            names = "--trust-domain",
            defaultValue = SpiffeId.DEFAULT_TRUST_DOMAIN,
            description = "SPIFFE trust domain of workload identities (default: ${DEFAULT-VALUE}).")
    String trustDomain;

    boolean given() {
        return caDir != null || caCert != null || caKey != null;
    }

    /** @throws IllegalArgumentException when the options contradict each other or the CA cannot be read */
    Optional<CertificateAuthority> load(Clock clock) {
        if (caDir != null && (caCert != null || caKey != null)) {
            throw new IllegalArgumentException("give either --ca-dir or --ca-cert with --ca-key, not both");
        }
        if ((caCert == null) != (caKey == null)) {
            throw new IllegalArgumentException("--ca-cert and --ca-key go together");
        }
        if (caDir != null) {
            return Optional.of(CertificateAuthority.inDirectory(caDir.toAbsolutePath(), clock));
        }
        if (caCert != null) {
            return Optional.of(CertificateAuthority.fromFiles(caCert, caKey, clock));
        }
        return Optional.empty();
    }
}
