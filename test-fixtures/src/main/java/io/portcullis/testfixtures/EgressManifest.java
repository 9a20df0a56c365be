package io.portcullis.testfixtures;

import java.util.ArrayList;
import java.util.List;

/**
 * An Egress manifest as a user writes it, for tests: the guide's shape (one ServiceAccount source, hosts or
 * IP ranges, ports, optionally one HTTPRouteGroup match) with the parts a test varies.
 *
 * <p>Defaults are the guide's first step: namespace {@code curl}, source ServiceAccount {@code curl/curl}.
 * {@code EgressManifest.named("httpbin-80").host("httpbin.org").port(80, "http").yaml()} is, byte for byte,
 * the guide's 01-http-egress.yaml without its comments.
 */
public final class EgressManifest {

    private final String name;
    private String namespace = "curl";
    private String sourceName = "curl";
    private String sourceNamespace = "curl";
    private final List<String> hosts = new ArrayList<>();
    private final List<String> ipAddresses = new ArrayList<>();
    private final List<String> ports = new ArrayList<>();
    private String routeGroup;

    private EgressManifest(String name) {
        this.name = name;
    }

    public static EgressManifest named(String name) {
        return new EgressManifest(name);
    }

    public EgressManifest namespace(String namespace) {
        this.namespace = namespace;
        return this;
    }

    /** The one ServiceAccount source (replaces the default curl/curl). */
    public EgressManifest fromServiceAccount(String name, String namespace) {
        this.sourceName = name;
        this.sourceNamespace = namespace;
        return this;
    }

    public EgressManifest host(String... hosts) {
        this.hosts.addAll(List.of(hosts));
        return this;
    }

    public EgressManifest ipAddress(String... cidrs) {
        this.ipAddresses.addAll(List.of(cidrs));
        return this;
    }

    public EgressManifest port(int number, String protocol) {
        ports.add("  - number: " + number + "\n    protocol: " + protocol + "\n");
        return this;
    }

    /** {@code matches:} naming one HTTPRouteGroup in the same namespace. */
    public EgressManifest matchesRouteGroup(String name) {
        this.routeGroup = name;
        return this;
    }

    public String yaml() {
        StringBuilder yaml = new StringBuilder()
                .append("kind: Egress\n")
                .append("apiVersion: policy.flomesh.io/v1alpha1\n")
                .append("metadata:\n")
                .append("  name: ")
                .append(name)
                .append('\n')
                .append("  namespace: ")
                .append(namespace)
                .append('\n')
                .append("spec:\n")
                .append("  sources:\n")
                .append("  - kind: ServiceAccount\n")
                .append("    name: ")
                .append(sourceName)
                .append('\n')
                .append("    namespace: ")
                .append(sourceNamespace)
                .append('\n');
        list(yaml, "hosts", hosts);
        list(yaml, "ipAddresses", ipAddresses);
        if (!ports.isEmpty()) {
            yaml.append("  ports:\n");
            ports.forEach(yaml::append);
        }
        if (routeGroup != null) {
            yaml.append("  matches:\n")
                    .append("  - apiGroup: specs.smi-spec.io/v1alpha4\n")
                    .append("    kind: HTTPRouteGroup\n")
                    .append("    name: ")
                    .append(routeGroup)
                    .append('\n');
        }
        return yaml.toString();
    }

    @Override
    public String toString() {
        return yaml();
    }

    private static void list(StringBuilder yaml, String field, List<String> values) {
        if (values.isEmpty()) {
            return;
        }
        yaml.append("  ").append(field).append(":\n");
        values.forEach(v -> yaml.append("  - ").append(v).append('\n'));
    }
}
