package io.portcullis.identity;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;

/** A certificate the CA issued, with its private key and the CA certificate it chains to. */
public record IssuedCertificate(X509Certificate certificate, PrivateKey privateKey, X509Certificate issuer) {

    public IssuedCertificate {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(issuer, "issuer");
    }

    public String certificatePem() {
        return Pem.encode(certificate);
    }

    /** PKCS#8, the form Envoy and Netty both read. */
    public String privateKeyPem() {
        return Pem.encode(privateKey);
    }

    public String issuerPem() {
        return Pem.encode(issuer);
    }

    /** Lower-case hex, the form Envoy's admin {@code /certs} prints. */
    public String serialHex() {
        return certificate.getSerialNumber().toString(16);
    }
}
