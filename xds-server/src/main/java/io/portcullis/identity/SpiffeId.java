package io.portcullis.identity;

import io.portcullis.input.ServiceAccountRef;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A workload's SPIFFE ID in the Kubernetes form {@code spiffe://<trust-domain>/ns/<namespace>/sa/<serviceAccount>},
 * as carried in the URI SAN of its X.509-SVID.
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {

    public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";

    // SPIFFE: trust domain of lowercase letters, digits, '.', '-', '_'; path segments here are Kubernetes names.
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]+");
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
    private static final Pattern URI = Pattern.compile("spiffe://([^/]+)/ns/([^/]+)/sa/([^/]+)");
    /** GeneralName tag of a uniformResourceIdentifier in X509Certificate#getSubjectAlternativeNames. */
    private static final int SAN_URI = 6;

    public SpiffeId {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(serviceAccount, "serviceAccount");
        requireTrustDomain(trustDomain);
        if (!NAME.matcher(namespace).matches() || namespace.length() > 63) {
            throw new IllegalArgumentException("namespace '" + namespace + "' is not a Kubernetes namespace name");
        }
        if (!NAME.matcher(serviceAccount).matches() || serviceAccount.length() > 253) {
            throw new IllegalArgumentException("service account '" + serviceAccount + "' is not a Kubernetes name");
        }
    }

    public static SpiffeId of(String trustDomain, ServiceAccountRef serviceAccount) {
        return new SpiffeId(trustDomain, serviceAccount.namespace(), serviceAccount.name());
    }

    /** @throws IllegalArgumentException when the text is not a Kubernetes workload SPIFFE ID */
    public static SpiffeId parse(String uri) {
        Matcher m = URI.matcher(uri);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + uri
                    + "' is not a SPIFFE ID of the form spiffe://<trust-domain>/ns/<namespace>/sa/<serviceAccount>");
        }
        return new SpiffeId(m.group(1), m.group(2), m.group(3));
    }

    /**
     * The SPIFFE ID of an X.509-SVID: exactly one URI SAN, and it must parse.
     *
     * @throws IllegalArgumentException saying what is wrong with the certificate
     */
    public static SpiffeId fromCertificate(X509Certificate certificate) {
        List<String> uris = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() == 2 && Integer.valueOf(SAN_URI).equals(san.get(0))) {
                        uris.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException(
                    "certificate subject alternative names do not parse: " + e.getMessage(), e);
        }
        if (uris.size() != 1) {
            throw new IllegalArgumentException(
                    "certificate (serial " + certificate.getSerialNumber().toString(16) + ") has " + uris.size()
                            + " URI SANs " + uris + "; an X.509-SVID has exactly one SPIFFE ID");
        }
        return parse(uris.get(0));
    }

    static void requireTrustDomain(String trustDomain) {
        if (!TRUST_DOMAIN.matcher(trustDomain).matches() || trustDomain.length() > 255) {
            throw new IllegalArgumentException("trust domain '" + trustDomain
                    + "' must be lowercase letters, digits, '.', '-' and '_', e.g. cluster.local");
        }
    }

    public ServiceAccountRef serviceAccountRef() {
        return new ServiceAccountRef(namespace, serviceAccount);
    }

    public String uri() {
        return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
    }

    @Override
    public String toString() {
        return uri();
    }
}
