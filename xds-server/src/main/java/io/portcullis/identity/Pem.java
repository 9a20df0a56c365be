package io.portcullis.identity;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemWriter;

/** PEM text in and out, through BouncyCastle; no provider is registered, the JDK does the crypto. */
final class Pem {

    private Pem() {}

    static String encode(X509Certificate certificate) {
        try (StringWriter out = new StringWriter();
                var pem = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(out)) {
            pem.writeObject(certificate);
            pem.flush();
            return out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String encode(PrivateKey key) {
        try (StringWriter out = new StringWriter();
                PemWriter pem = new PemWriter(out)) {
            pem.writeObject(new JcaPKCS8Generator(key, null));
            pem.flush();
            return out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @throws IllegalArgumentException naming {@code source} when the text holds no certificate */
    static X509Certificate certificate(String text, String source) {
        Object object = read(text, source);
        if (!(object instanceof X509CertificateHolder holder)) {
            throw new IllegalArgumentException(source + " does not start with a PEM CERTIFICATE");
        }
        try {
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (CertificateException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /** Accepts PKCS#8 ("PRIVATE KEY") and OpenSSL's "EC PRIVATE KEY". */
    static PrivateKey privateKey(String text, String source) {
        Object object = read(text, source);
        try {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(source + " does not hold an unencrypted PEM private key");
    }

    private static Object read(String text, String source) {
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            Object object = parser.readObject();
            if (object == null) {
                throw new IllegalArgumentException(source + " holds no PEM object");
            }
            return object;
        } catch (IOException e) {
            throw new IllegalArgumentException(source + " is not valid PEM: " + e.getMessage(), e);
        }
    }
}
