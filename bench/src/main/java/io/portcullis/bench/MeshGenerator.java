package io.portcullis.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a simulated mesh as the manifests a platform team would keep: one file per Egress policy (with its
 * HTTPRouteGroup when it has one) and the MeshConfig, in the directory layout {@code portcullis serve
 * --config-dir} reads. Deterministic: the same shape and generation give byte-identical files.
 *
 * <p>Policies cycle through the four protocols and the match kinds, so every stage of the translator does
 * real work: {@code http} by host (every other one with an HTTPRouteGroup of path, method and header
 * matches), {@code https} by SNI, {@code tcp} with an IP range, and {@code tcp-server-first}. Each policy
 * has its own host or range; ports repeat across a small set, as in a real mesh, so policies of one
 * identity merge per port.
 */
public final class MeshGenerator {

    public static final String MESH_CONFIG_FILE = "mesh-config.yaml";
    /** Generations of one policy stay distinct from other policies' ranges up to this one. */
    public static final int MAX_GENERATION = 15;

    private static final int[] HTTP_PORTS = {80, 8080, 8000, 9080};
    private static final int[] HTTPS_PORTS = {443, 8443, 9443};
    private static final int[] TCP_PORTS = {5432, 3306, 6379, 27017, 9092};
    private static final int[] SERVER_FIRST_PORTS = {22, 25, 3307};

    private MeshGenerator() {}

    /** File name to content: every policy file and the MeshConfig at generation 0. */
    public static Map<String, String> manifests(MeshShape shape) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(MESH_CONFIG_FILE, meshConfig(0));
        for (int p = 0; p < shape.policies(); p++) {
            files.put(policyFile(p), policy(shape, p, 0));
        }
        return files;
    }

    /** Writes {@link #manifests} into {@code directory} (created if missing). */
    public static void writeTo(Path directory, MeshShape shape) {
        try {
            Files.createDirectories(directory);
            for (Map.Entry<String, String> file : manifests(shape).entrySet()) {
                Files.writeString(directory.resolve(file.getKey()), file.getValue(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Replaces one file the way {@code portcullis apply} does (a temporary file renamed over it), so the
     * directory source never sees it half-written.
     */
    public static void replace(Path directory, String fileName, String content) {
        try {
            Path temporary = directory.resolve("." + fileName + ".tmp");
            Files.writeString(temporary, content, StandardCharsets.UTF_8);
            Files.move(temporary, directory.resolve(fileName), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String policyFile(int policy) {
        return String.format("policy-%05d.yaml", policy);
    }

    /**
     * Policy {@code p}'s manifests at {@code generation}: each generation allows one more host (or range)
     * than the one before it, so a new generation is a real change of that identity's config.
     */
    public static String policy(MeshShape shape, int p, int generation) {
        if (generation < 0 || generation > MAX_GENERATION) {
            throw new IllegalArgumentException("generation " + generation + " is not in 0.." + MAX_GENERATION);
        }
        var identity = shape.identity(shape.identityOf(p));
        String name = "egress-" + p;
        StringBuilder yaml = new StringBuilder();
        String header = "kind: Egress\napiVersion: policy.flomesh.io/v1alpha1\nmetadata:\n  name: " + name
                + "\n  namespace: " + identity.namespace() + "\nspec:\n  sources:\n  - kind: ServiceAccount\n"
                + "    name: " + identity.name() + "\n    namespace: " + identity.namespace() + "\n";
        switch (p % 4) {
            case 0 -> {
                boolean routed = (p / 4) % 2 == 1;
                if (routed) {
                    yaml.append("apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata:\n")
                            .append("  name: routes-")
                            .append(p)
                            .append("\n  namespace: ")
                            .append(identity.namespace())
                            .append("\nspec:\n  matches:\n")
                            .append("  - name: read\n    pathRegex: /api/v1/items/[0-9]+\n    methods:\n")
                            .append("    - GET\n    - HEAD\n")
                            .append("  - name: write\n    pathRegex: /api/v1/items\n    methods:\n    - POST\n")
                            .append("    headers:\n    - content-type: application/json\n---\n");
                }
                yaml.append(header).append("  hosts:\n");
                hosts(yaml, "api-" + p, generation);
                yaml.append("  ports:\n  - number: ")
                        .append(HTTP_PORTS[(p / 4) % HTTP_PORTS.length])
                        .append("\n    protocol: http\n");
                if (routed) {
                    yaml.append("  matches:\n  - apiGroup: specs.smi-spec.io/v1alpha4\n    kind: HTTPRouteGroup\n")
                            .append("    name: routes-")
                            .append(p)
                            .append('\n');
                }
            }
            case 1 -> {
                yaml.append(header).append("  hosts:\n");
                hosts(yaml, "tls-" + p, generation);
                yaml.append("  ports:\n  - number: ")
                        .append(HTTPS_PORTS[(p / 4) % HTTPS_PORTS.length])
                        .append("\n    protocol: https\n");
            }
            case 2 -> {
                yaml.append(header).append("  ipAddresses:\n");
                for (int g = 0; g <= generation; g++) {
                    yaml.append("  - ").append(range(p, g)).append('\n');
                }
                yaml.append("  ports:\n  - number: ")
                        .append(TCP_PORTS[(p / 4) % TCP_PORTS.length])
                        .append("\n    protocol: tcp\n");
            }
            default -> {
                yaml.append(header).append("  ipAddresses:\n");
                for (int g = 0; g <= generation; g++) {
                    yaml.append("  - ").append(range(p, g)).append('\n');
                }
                yaml.append("  ports:\n  - number: ")
                        .append(SERVER_FIRST_PORTS[(p / 4) % SERVER_FIRST_PORTS.length])
                        .append("\n    protocol: tcp-server-first\n");
            }
        }
        return yaml.toString();
    }

    /**
     * The version of the RTDS runtime layer the control plane serves for {@link #meshConfig}'s generation: its sample
     * rate, as the xDS server's DecisionSamplingLayer names it.
     */
    public static String runtimeLayerVersion(int generation) {
        return "sample-" + (generation % 100);
    }

    /**
     * The MeshConfig at {@code generation}: egress policy enforced, and the sampling of allowed decisions
     * set to {@code generation % 100}, so each generation changes it; the rate reaches the sidecars as their RTDS
     * runtime layer ({@link #runtimeLayerVersion}), not in their listeners.
     */
    public static String meshConfig(int generation) {
        return "apiVersion: config.flomesh.io/v1alpha3\nkind: MeshConfig\nmetadata:\n  name: fsm-mesh-config\n"
                + "  namespace: fsm-system\nspec:\n  featureFlags:\n    enableEgressPolicy: true\n"
                + "  traffic:\n    enableEgress: false\n  observability:\n    egressDecisionLog:\n"
                + "      allowedSamplePercent: " + (generation % 100) + "\n";
    }

    private static void hosts(StringBuilder yaml, String stem, int generation) {
        for (int g = 0; g <= generation; g++) {
            yaml.append("  - ").append(stem).append(g == 0 ? "" : "-v" + g).append(".example.com\n");
        }
    }

    /** A /28 unique to (policy, generation) inside 10.0.0.0/8. */
    private static String range(int p, int generation) {
        int block = (p * 16 + generation) & 0xFFFFF; // 2^20 /28s fit in 10.0.0.0/8
        int address = block << 4;
        return "10." + ((address >> 16) & 0xFF) + "." + ((address >> 8) & 0xFF) + "." + (address & 0xFF) + "/28";
    }
}
