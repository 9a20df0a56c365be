package io.portcullis.cli;

import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/** Where a sidecar's certificate files go, for how long they are valid, and who may read the key. */
final class WorkloadCertificateOptions {

    @Option(
            names = "--cert-dir",
            description = "The sidecar's certificate directory (cert-chain.pem, key.pem, root-cert.pem and"
                    + " the SDS files Envoy reads them through).")
    Path certDir;

    @Option(
            names = "--cert-validity",
            defaultValue = "24h",
            converter = DurationConverter.class,
            description =
                    "Validity of the workload certificate (default: ${DEFAULT-VALUE}); renew with 'portcullis cert issue'.")
    Duration validity;

    @Option(
            names = "--key-owner-uid",
            description = "Make key.pem owned by this UID/GID (mode 0600), e.g. the sidecar's "
                    + SidecarContract.DEFAULT_PROXY_UID
                    + " when running as root.")
    Integer keyOwnerUid;

    CertificateDirectory directory() {
        return new CertificateDirectory(certDir.toAbsolutePath());
    }

    /** Issues a certificate for {@code id} and publishes it, atomically replacing any previous one. */
    IssuedCertificate issue(CertificateAuthority ca, SpiffeId id) {
        IssuedCertificate issued = ca.issueWorkload(id, validity);
        directory()
                .publish(
                        issued.certificatePem(),
                        issued.privateKeyPem(),
                        ca.certificatePem(),
                        keyOwnerUid == null ? OptionalInt.empty() : OptionalInt.of(keyOwnerUid));
        return issued;
    }
}
