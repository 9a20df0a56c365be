package io.portcullis.bootstrap;

import io.portcullis.crds.KubernetesNames;
import java.util.Objects;
import java.util.function.Function;

/**
 * A sidecar's identity as carried in its Envoy node id: {@code sidecar~<namespace>~<serviceAccount>~<podName>}.
 *
 * <p>This is the only place that encodes or decodes that string: the bootstrap writes it and the xDS
 * server parses it to decide which egress policy a connecting Envoy gets, so the two sides cannot
 * drift. {@code ~} is a safe separator because Kubernetes names never contain it. Note the node id
 * is self-asserted by the sidecar; whoever serves policy must still authenticate the connection.
 */
public record SidecarNodeId(String namespace, String serviceAccount, String podName) {

    /** Node ids of other kinds (gateways, tests) must never be mistaken for a sidecar. */
    public static final String PREFIX = "sidecar";

    private static final String SEPARATOR = "~";
    private static final int PARTS = 4;
    private static final String FORMAT = "sidecar~<namespace>~<serviceAccount>~<podName>";

    public SidecarNodeId {
        require("namespace", namespace, KubernetesNames::label);
        require("service account", serviceAccount, KubernetesNames::subdomain);
        require("pod name", podName, KubernetesNames::subdomain);
    }

    /** The Envoy {@code node.id}. */
    public String nodeId() {
        return String.join(SEPARATOR, PREFIX, namespace, serviceAccount, podName);
    }

    /**
     * The Envoy {@code node.cluster}: {@code <serviceAccount>.<namespace>}. Envoy uses it for stats and
     * some extensions; all replicas running as the same identity share it.
     */
    public String nodeCluster() {
        return serviceAccount + "." + namespace;
    }

    /** Decodes {@link #nodeId()}; every malformed id is rejected with the exact reason. */
    public static SidecarNodeId parse(String nodeId) {
        if (nodeId == null) {
            throw new IllegalArgumentException("node id must not be null; expected " + FORMAT);
        }
        // limit -1 keeps trailing empty parts, so "sidecar~ns~sa~" is reported as an empty pod name.
        String[] parts = nodeId.split(SEPARATOR, -1);
        if (!parts[0].equals(PREFIX)) {
            throw new IllegalArgumentException(
                    "node id '" + nodeId + "' does not start with '" + PREFIX + SEPARATOR + "'; expected " + FORMAT);
        }
        if (parts.length != PARTS) {
            throw new IllegalArgumentException("node id '" + nodeId + "' has " + parts.length
                    + " '~'-separated parts, expected " + PARTS + " (" + FORMAT + ")");
        }
        String[] names = {"namespace", "service account", "pod name"};
        for (int i = 1; i < PARTS; i++) {
            if (parts[i].isEmpty()) {
                throw new IllegalArgumentException("node id '" + nodeId + "' has an empty " + names[i - 1]);
            }
        }
        try {
            return new SidecarNodeId(parts[1], parts[2], parts[3]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("node id '" + nodeId + "': " + e.getMessage(), e);
        }
    }

    private static void require(String what, String value, Function<String, String> rule) {
        Objects.requireNonNull(value, what + " must not be null");
        if (value.isEmpty()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        String problem = rule.apply(value);
        if (problem != null) {
            throw new IllegalArgumentException(what + " '" + value + "' " + problem);
        }
    }
}
