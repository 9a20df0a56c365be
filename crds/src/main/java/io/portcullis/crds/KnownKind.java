package io.portcullis.crds;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The kinds Portcullis reads, with the one apiVersion accepted for each: the one list the manifest
 * reader, the directory store's kubectl-like commands and the policy validator share.
 */
public record KnownKind(
        Class<? extends HasMetadata> type,
        String kind,
        String plural,
        String group,
        String version,
        boolean strictFields,
        boolean specRequired,
        String specHint) {

    static final List<KnownKind> ALL = List.of(
            new KnownKind(
                    Egress.class,
                    Egress.KIND,
                    Egress.PLURAL,
                    Egress.GROUP,
                    Egress.VERSION,
                    true,
                    true,
                    "an Egress needs spec.sources and spec.ports"),
            new KnownKind(
                    HTTPRouteGroup.class,
                    HTTPRouteGroup.KIND,
                    HTTPRouteGroup.PLURAL,
                    HTTPRouteGroup.GROUP,
                    HTTPRouteGroup.VERSION,
                    true,
                    true,
                    "an HTTPRouteGroup needs spec.matches"),
            // FSM's MeshConfig has many more fields than we model: they are kept, never rejected.
            new KnownKind(
                    MeshConfig.class,
                    MeshConfig.KIND,
                    MeshConfig.PLURAL,
                    MeshConfig.GROUP,
                    MeshConfig.VERSION,
                    false,
                    false,
                    ""),
            // Read only for its annotation portcullis.io/egress-mode (audit mode); everything else a
            // Namespace carries is kept, never rejected. Cluster-scoped: it has no namespace.
            new KnownKind(
                    io.fabric8.kubernetes.api.model.Namespace.class,
                    "Namespace",
                    "namespaces",
                    "",
                    "v1",
                    false,
                    false,
                    ""));

    /** {@code group/version}, or just the version for the core group ({@code v1}), as Kubernetes writes it. */
    public String apiVersion() {
        return group.isEmpty() ? version : group + "/" + version;
    }

    /** A kind that lives in no namespace (Namespace itself). */
    public boolean clusterScoped() {
        return type == io.fabric8.kubernetes.api.model.Namespace.class;
    }

    static Optional<KnownKind> byKind(String kind) {
        return ALL.stream().filter(k -> k.kind.equals(kind)).findFirst();
    }

    /**
     * The kind kubectl would take {@code name} for (case-insensitive): singular or plural, short or
     * qualified by its group, as in {@code egress}, {@code egresses.policy.flomesh.io}.
     */
    public static Optional<KnownKind> byKubectlName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return ALL.stream().filter(k -> k.kubectlNames().contains(lower)).findFirst();
    }

    /**
     * How kubectl names an object of this kind in its output: {@code egress.policy.flomesh.io/NAME}, or
     * {@code namespace/NAME} for the core group.
     */
    public String kubectlName(String name) {
        String singular = kind.toLowerCase(Locale.ROOT);
        return (group.isEmpty() ? singular : singular + "." + group) + "/" + name;
    }

    /** The lower-case singular names, for a message listing what may be named: egress, httproutegroup, meshconfig. */
    public static List<String> kubectlKinds() {
        return ALL.stream().map(k -> k.kind.toLowerCase(Locale.ROOT)).toList();
    }

    private List<String> kubectlNames() {
        String singular = kind.toLowerCase(Locale.ROOT);
        if (group.isEmpty()) {
            // kubectl's short name for namespaces is ns; the core group has no qualified form.
            return clusterScoped() ? List.of(singular, plural, "ns") : List.of(singular, plural);
        }
        return List.of(singular, plural, singular + "." + group, plural + "." + group);
    }

    public static Optional<KnownKind> byType(Class<?> type) {
        return ALL.stream().filter(k -> k.type.equals(type)).findFirst();
    }

    static String summary() {
        StringBuilder sb = new StringBuilder();
        for (KnownKind k : ALL) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(k.kind).append(" (").append(k.apiVersion()).append(')');
        }
        return sb.toString();
    }
}
