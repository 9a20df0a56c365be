package io.portcullis.kubernetes.injection;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The certificate files of a ServiceAccount's sidecars, as a Secret in its namespace that the Envoy container
 * mounts read-only at {@link SidecarTemplate#CERTIFICATES}: the X.509-SVID the control plane's CA issues for
 * {@code spiffe://<trust domain>/ns/<namespace>/sa/<serviceAccount>}, its key, the trust bundle, and the SDS
 * files Envoy reads them through. One Secret per ServiceAccount, shared by its pods and renewed in place (the
 * kubelet republishes a changed Secret with the same atomic {@code ..data} swap {@link CertificateDirectory}
 * uses, so running sidecars pick up the renewal).
 *
 * <p>Why it is safe to hand the webhook's caller this identity: the pod runs as that ServiceAccount, and
 * whoever can create a pod with ServiceAccount X in namespace N can already obtain X's token (mount it, or
 * request one), so the certificate grants nothing beyond what creating the pod already granted. The Secret
 * lives in N, where only those who can read N's Secrets (and so its other credentials) can read it.
 */
public final class SidecarSecrets {

    static final String NAME_PREFIX = "portcullis-sidecar-";
    static final String SPIFFE_ANNOTATION = "portcullis.io/spiffe-id";
    static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    static final String MANAGED_BY = "portcullis";
    private static final int MAX_NAME = 253;

    private final CertificateAuthority ca;
    private final InjectorSettings settings;
    private final Clock clock;

    public SidecarSecrets(CertificateAuthority ca, InjectorSettings settings, Clock clock) {
        this.ca = ca;
        this.settings = settings;
        this.clock = clock;
    }

    /** {@code portcullis-sidecar-<serviceAccount>}, shortened with a digest when that is over 253 characters. */
    public static String secretName(String serviceAccount) {
        String name = NAME_PREFIX + serviceAccount;
        if (name.length() <= MAX_NAME) {
            return name;
        }
        String digest = HexFormat.of().formatHex(sha256(serviceAccount)).substring(0, 16);
        return name.substring(0, MAX_NAME - digest.length() - 1) + "-" + digest;
    }

    /**
     * The Secret to store for this identity, or empty when {@code stored} is still good: issued by this CA for
     * this identity and valid for more than half the validity the injector issues with.
     */
    public Optional<Secret> renewal(String namespace, String serviceAccount, Optional<Secret> stored) {
        SpiffeId id = new SpiffeId(settings.trustDomain(), namespace, serviceAccount);
        if (stored.isPresent() && stillGood(stored.get(), id)) {
            return Optional.empty();
        }
        return Optional.of(issue(namespace, serviceAccount, id));
    }

    private Secret issue(String namespace, String serviceAccount, SpiffeId id) {
        IssuedCertificate issued = ca.issueWorkload(id, settings.certificateValidity());
        CertificateDirectory files = SidecarTemplate.CERTIFICATES;
        Map<String, String> data = new LinkedHashMap<>();
        data.put(CertificateDirectory.CERTIFICATE_CHAIN, issued.certificatePem());
        data.put(CertificateDirectory.PRIVATE_KEY, issued.privateKeyPem());
        data.put(CertificateDirectory.TRUST_BUNDLE, ca.certificatePem());
        data.put(CertificateDirectory.TLS_CERTIFICATE_SDS, files.tlsCertificateSdsFile());
        data.put(CertificateDirectory.VALIDATION_CONTEXT_SDS, files.validationContextSdsFile());
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((k, v) -> encoded.put(k, base64(v)));
        return new SecretBuilder()
                .withNewMetadata()
                .withNamespace(namespace)
                .withName(secretName(serviceAccount))
                .addToLabels(MANAGED_BY_LABEL, MANAGED_BY)
                .addToAnnotations(SPIFFE_ANNOTATION, id.uri())
                .endMetadata()
                .withType("Opaque")
                .withData(encoded)
                .build();
    }

    private boolean stillGood(Secret secret, SpiffeId id) {
        Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
        try {
            String chain = decode(data.get(CertificateDirectory.CERTIFICATE_CHAIN));
            String bundle = decode(data.get(CertificateDirectory.TRUST_BUNDLE));
            if (chain == null || bundle == null || data.get(CertificateDirectory.PRIVATE_KEY) == null) {
                return false;
            }
            if (!bundle.equals(ca.certificatePem())) {
                return false; // another CA (rotated): the control plane would refuse the old certificate
            }
            X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(chain.getBytes(StandardCharsets.US_ASCII)));
            certificate.verify(ca.certificate().getPublicKey());
            Instant renewAfter = certificate
                    .getNotAfter()
                    .toInstant()
                    .minus(settings.certificateValidity().dividedBy(2));
            return id.equals(SpiffeId.fromCertificate(certificate))
                    && clock.instant().isBefore(renewAfter)
                    && !clock.instant()
                            .isBefore(certificate.getNotBefore().toInstant().minus(Duration.ofMinutes(5)));
        } catch (IllegalArgumentException | java.security.GeneralSecurityException e) {
            return false; // unreadable or not ours: replace it
        }
    }

    private static String decode(String base64) {
        return base64 == null ? null : new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] sha256(String text) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }
}
