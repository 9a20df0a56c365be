package io.portcullis.bootstrap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.PathConfigSource;
import io.envoyproxy.envoy.config.core.v3.WatchedDirectory;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * The one contract for a sidecar's certificate files: their names, the SDS files Envoy reads them
 * through, and how a new set replaces the old one. {@code portcullis bootstrap}/{@code cert issue}
 * write it; the Kubernetes injector mounts the same names.
 *
 * <p>Layout, the way the kubelet publishes a Secret volume, so Envoy never sees a certificate paired
 * with the wrong key:
 * <pre>
 *   DIR/..2026_11_26_10_00_00.123456789/{cert-chain.pem,key.pem,root-cert.pem,sds-*.yaml}
 *   DIR/..data -> ..2026_11_26_10_00_00.123456789       (swapped by an atomic rename)
 *   DIR/cert-chain.pem -> ..data/cert-chain.pem           (and so on for every file)
 * </pre>
 * The bootstrap watches DIR ({@code watched_directory}): the rename of {@code ..data} makes Envoy
 * re-read the SDS files and the certificate and key together, without a restart.
 *
 * @param dir absolute: Envoy resolves the paths written into its config from its own working directory
 */
public record CertificateDirectory(Path dir) {

    /** The workload certificate (leaf first), PEM. */
    public static final String CERTIFICATE_CHAIN = "cert-chain.pem";
    /** Its private key, PKCS#8 PEM; readable only by the sidecar's UID. */
    public static final String PRIVATE_KEY = "key.pem";
    /** The CA certificates that peers (the xDS server) must chain to, PEM. */
    public static final String TRUST_BUNDLE = "root-cert.pem";
    /** SDS (a DiscoveryResponse) naming {@link #CERTIFICATE_CHAIN} and {@link #PRIVATE_KEY}. */
    public static final String TLS_CERTIFICATE_SDS = "sds-tls-certificate.yaml";
    /** SDS naming {@link #TRUST_BUNDLE}. */
    public static final String VALIDATION_CONTEXT_SDS = "sds-validation-context.yaml";
    /** Names of the secrets inside the SDS files, as the bootstrap refers to them. */
    public static final String TLS_CERTIFICATE_SECRET = "workload-certificate";

    public static final String VALIDATION_CONTEXT_SECRET = "trust-bundle";

    static final String DATA_LINK = "..data";

    private static final JsonFormat.Printer JSON = JsonFormat.printer()
            .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
                    .add(Secret.getDescriptor())
                    .build())
            .preservingProtoFieldNames();
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .disable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build());
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("'..'yyyy_MM_dd_HH_mm_ss.nnnnnnnnn").withZone(ZoneOffset.UTC);

    public CertificateDirectory {
        Objects.requireNonNull(dir, "dir must not be null");
        if (!dir.isAbsolute()) {
            throw new IllegalArgumentException("certificate directory '" + dir + "' must be an absolute path");
        }
        dir = dir.normalize();
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    /** How the bootstrap refers to the workload certificate. */
    public SdsSecretConfig tlsCertificateSds() {
        return sds(TLS_CERTIFICATE_SECRET, TLS_CERTIFICATE_SDS);
    }

    /** How the bootstrap refers to the trust bundle. */
    public SdsSecretConfig validationContextSds() {
        return sds(VALIDATION_CONTEXT_SECRET, VALIDATION_CONTEXT_SDS);
    }

    private SdsSecretConfig sds(String secret, String file) {
        return SdsSecretConfig.newBuilder()
                .setName(secret)
                .setSdsConfig(ConfigSource.newBuilder()
                        .setPathConfigSource(PathConfigSource.newBuilder()
                                .setPath(file(file).toString())
                                .setWatchedDirectory(watched()))
                        .setResourceApiVersion(ApiVersion.V3))
                .build();
    }

    /** The content of {@link #TLS_CERTIFICATE_SDS}. */
    public String tlsCertificateSdsFile() {
        return yaml(Secret.newBuilder()
                .setName(TLS_CERTIFICATE_SECRET)
                .setTlsCertificate(TlsCertificate.newBuilder()
                        .setCertificateChain(DataSource.newBuilder()
                                .setFilename(file(CERTIFICATE_CHAIN).toString()))
                        .setPrivateKey(DataSource.newBuilder()
                                .setFilename(file(PRIVATE_KEY).toString()))
                        // Read chain and key together when the directory changes, never one without the other.
                        .setWatchedDirectory(watched()))
                .build());
    }

    /** The content of {@link #VALIDATION_CONTEXT_SDS}. */
    public String validationContextSdsFile() {
        return yaml(Secret.newBuilder()
                .setName(VALIDATION_CONTEXT_SECRET)
                .setValidationContext(CertificateValidationContext.newBuilder()
                        .setTrustedCa(DataSource.newBuilder()
                                .setFilename(file(TRUST_BUNDLE).toString()))
                        .setWatchedDirectory(watched()))
                .build());
    }

    private WatchedDirectory watched() {
        return WatchedDirectory.newBuilder().setPath(dir.toString()).build();
    }

    /**
     * Publishes a new certificate set: writes it into a fresh timestamped directory, then swaps
     * {@code ..data} to it with one atomic rename, then removes older sets. A reader sees the old set
     * or the new one, never a mix.
     *
     * @param keyOwnerUid when present (running as root for a sidecar of another UID), the key is
     *     chowned to this UID and GID; it is mode 0600 either way
     */
    public void publish(
            String certificateChainPem, String privateKeyPem, String trustBundlePem, OptionalInt keyOwnerUid) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path set = createSetDirectory();
            write(set.resolve(CERTIFICATE_CHAIN), certificateChainPem, "rw-r--r--");
            write(set.resolve(TRUST_BUNDLE), trustBundlePem, "rw-r--r--");
            write(set.resolve(TLS_CERTIFICATE_SDS), tlsCertificateSdsFile(), "rw-r--r--");
            write(set.resolve(VALIDATION_CONTEXT_SDS), validationContextSdsFile(), "rw-r--r--");
            Path key = set.resolve(PRIVATE_KEY);
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            if (keyOwnerUid.isPresent()) {
                Files.setAttribute(key, "unix:uid", keyOwnerUid.getAsInt());
                Files.setAttribute(key, "unix:gid", keyOwnerUid.getAsInt());
            }
            Files.writeString(key, privateKeyPem);
            Files.setPosixFilePermissions(set, PosixFilePermissions.fromString("rwxr-xr-x"));

            Path tmpLink = dir.resolve(DATA_LINK + "_tmp");
            Files.deleteIfExists(tmpLink);
            Files.createSymbolicLink(tmpLink, set.getFileName());
            try {
                Files.move(tmpLink, dir.resolve(DATA_LINK), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot swap " + dir.resolve(DATA_LINK) + " atomically", e);
            }
            for (String name : new String[] {
                CERTIFICATE_CHAIN, PRIVATE_KEY, TRUST_BUNDLE, TLS_CERTIFICATE_SDS, VALIDATION_CONTEXT_SDS
            }) {
                Path link = dir.resolve(name);
                if (!Files.isSymbolicLink(link)) {
                    Files.deleteIfExists(link);
                    Files.createSymbolicLink(link, Path.of(DATA_LINK, name));
                }
            }
            removeOldSets(set);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write certificates to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** True once a certificate and its key have been published here. */
    public boolean published() {
        return Files.exists(file(CERTIFICATE_CHAIN)) && Files.exists(file(PRIVATE_KEY));
    }

    private Path createSetDirectory() throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path set = dir.resolve(STAMP.format(Instant.now()));
            try {
                return Files.createDirectory(set);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private void removeOldSets(Path current) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path old : entries.filter(p -> p.getFileName().toString().matches("\\.\\.\\d{4}_.*"))
                    .filter(p -> !p.equals(current))
                    .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                    .toList()) {
                try (Stream<Path> files = Files.list(old)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(old);
            }
        }
    }

    private static void write(Path file, String text, String mode) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    }

    private static String yaml(Secret secret) {
        try {
            String json = JSON.print(DiscoveryResponse.newBuilder()
                    .addResources(Any.pack(secret))
                    .build());
            Map<?, ?> tree = YAML.readValue(json, Map.class);
            return YAML.writeValueAsString(tree);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print SDS secret as JSON", e);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot convert SDS JSON to YAML", e);
        }
    }
}
