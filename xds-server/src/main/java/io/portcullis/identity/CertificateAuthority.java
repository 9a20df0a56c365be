package io.portcullis.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The mesh's certificate authority: it issues the SPIFFE certificates sidecars prove their
 * ServiceAccount with, and the xDS server's certificate. EC P-256 keys, ECDSA-SHA256 signatures.
 *
 * <p>Either generated on first use into a CA directory ({@link #inDirectory}), so that every
 * {@code portcullis} process pointed at that directory (two control planes, {@code bootstrap}) issues
 * under the same root, or the operator's own ({@link #fromFiles}).
 */
public final class CertificateAuthority {

    public static final String CA_CERTIFICATE = "ca.pem";
    public static final String CA_KEY = "ca-key.pem";
    private static final String LOCK = ".lock";
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** Certificates start a little in the past so that a peer whose clock is behind accepts them. */
    private static final Duration BACKDATE = Duration.ofMinutes(5);

    private static final String SIGNATURE = "SHA256withECDSA";

    private final X509Certificate certificate;
    private final PrivateKey key;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    private CertificateAuthority(X509Certificate certificate, PrivateKey key, Clock clock) {
        this.certificate = certificate;
        this.key = key;
        this.clock = clock;
    }

    /**
     * The CA kept in {@code dir}: loaded if {@value #CA_CERTIFICATE} and {@value #CA_KEY} are there,
     * otherwise generated and written (key mode 0600, directory 0700). A file lock makes processes that
     * start together agree on one CA instead of each writing its own.
     */
    // "try": the FileLock resource is never read in the block on purpose; holding it is its whole use.
    @SuppressWarnings("try")
    public static CertificateAuthority inDirectory(Path dir, Clock clock) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            try (FileChannel channel =
                            FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = channel.lock()) {
                Path cert = dir.resolve(CA_CERTIFICATE);
                Path key = dir.resolve(CA_KEY);
                if (Files.exists(cert) || Files.exists(key)) {
                    return fromFiles(cert, key, clock);
                }
                CertificateAuthority ca = generate(clock);
                Path keyTmp = dir.resolve(CA_KEY + ".tmp");
                Files.deleteIfExists(keyTmp);
                Files.createFile(
                        keyTmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(keyTmp, Pem.encode(ca.key));
                Files.move(keyTmp, key, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                Path certTmp = dir.resolve(CA_CERTIFICATE + ".tmp");
                Files.writeString(certTmp, ca.certificatePem());
                Files.move(certTmp, cert, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                return ca;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use CA directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The operator's CA: a PEM certificate (which must be a CA) and its PEM private key. */
    public static CertificateAuthority fromFiles(Path certificatePem, Path keyPem, Clock clock) {
        String certText = read(certificatePem, "CA certificate");
        String keyText = read(keyPem, "CA private key");
        X509Certificate cert = Pem.certificate(certText, certificatePem.toString());
        PrivateKey key = Pem.privateKey(keyText, keyPem.toString());
        if (cert.getBasicConstraints() < 0) {
            throw new IllegalArgumentException(
                    certificatePem + " is not a CA certificate (basicConstraints CA:TRUE is missing)");
        }
        CertificateAuthority ca = new CertificateAuthority(cert, key, clock);
        ca.checkKeyMatches(certificatePem, keyPem);
        return ca;
    }

    /** A fresh CA held in memory only: for tests. */
    public static CertificateAuthority generate(Clock clock) {
        KeyPair pair = newKeyPair();
        Instant now = clock.instant();
        X500Name name = new X500Name("O=portcullis, CN=portcullis mesh CA " + now.getEpochSecond());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            name,
                            serial(new SecureRandom()),
                            Date.from(now.minus(BACKDATE)),
                            Date.from(now.plus(CA_VALIDITY)),
                            name,
                            pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate cert = sign(builder, pair.getPrivate());
            return new CertificateAuthority(cert, pair.getPrivate(), clock);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate CA certificate", e);
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public String certificatePem() {
        return Pem.encode(certificate);
    }

    /**
     * A workload's X.509-SVID: its SPIFFE ID as the only URI SAN, usable only to authenticate as a TLS
     * client (a sidecar cannot pose as the xDS server with it).
     */
    public IssuedCertificate issueWorkload(SpiffeId id, Duration validity) {
        return issue(
                new X500Name("O=portcullis"),
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri())),
                KeyPurposeId.id_kp_clientAuth,
                validity);
    }

    /**
     * The xDS server's certificate, naming each host name or IP address sidecars dial it by; usable only
     * as a TLS server.
     */
    public IssuedCertificate issueServer(List<String> hostNamesOrIps, Duration validity) {
        if (hostNamesOrIps.isEmpty()) {
            throw new IllegalArgumentException("a server certificate needs at least one host name or IP address");
        }
        List<GeneralName> names = new ArrayList<>();
        for (String name : hostNamesOrIps) {
            names.add(
                    isIpLiteral(name)
                            ? new GeneralName(GeneralName.iPAddress, name)
                            : new GeneralName(GeneralName.dNSName, name));
        }
        return issue(
                new X500Name("O=portcullis, CN=" + hostNamesOrIps.get(0)),
                new GeneralNames(names.toArray(GeneralName[]::new)),
                KeyPurposeId.id_kp_serverAuth,
                validity);
    }

    private IssuedCertificate issue(X500Name subject, GeneralNames sans, KeyPurposeId purpose, Duration validity) {
        Objects.requireNonNull(validity, "validity");
        if (validity.isNegative() || validity.isZero()) {
            throw new IllegalArgumentException("certificate validity must be positive, not " + validity);
        }
        KeyPair pair = newKeyPair();
        Instant now = clock.instant();
        Instant notAfter = now.plus(validity);
        if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
            notAfter = certificate.getNotAfter().toInstant();
        }
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            certificate,
                            serial(random),
                            Date.from(now.minus(BACKDATE)),
                            Date.from(notAfter),
                            subject,
                            pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                    // Critical when the subject is empty, per RFC 5280; harmless otherwise.
                    .addExtension(Extension.subjectAlternativeName, true, sans)
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()))
                    .addExtension(
                            Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            return new IssuedCertificate(sign(builder, key), pair.getPrivate(), certificate);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot issue certificate for " + sans, e);
        }
    }

    private void checkKeyMatches(Path certificatePem, Path keyPem) {
        try {
            java.security.Signature signer =
                    java.security.Signature.getInstance(key.getAlgorithm().equals("EC") ? SIGNATURE : "SHA256withRSA");
            signer.initSign(key);
            byte[] probe = "portcullis".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            signer.update(probe);
            byte[] signature = signer.sign();
            signer.initVerify(certificate.getPublicKey());
            signer.update(probe);
            if (!signer.verify(signature)) {
                throw new IllegalArgumentException(keyPem + " is not the private key of " + certificatePem);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    keyPem + " is not the private key of " + certificatePem + ": " + e.getMessage(), e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey)
            throws GeneralSecurityException {
        try {
            String algorithm = signingKey.getAlgorithm().equals("EC") ? SIGNATURE : "SHA256withRSA";
            return new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(signingKey)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot generate EC P-256 keys", e);
        }
    }

    /** Positive, 127 bits: unpredictable, and within the 20 octets RFC 5280 allows. */
    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).setBit(126);
    }

    private static boolean isIpLiteral(String name) {
        return name.matches("[0-9.]+") || name.contains(":");
    }

    private static String read(Path file, String what) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
    }
}
