package io.portcullis.crds;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * Where a resource lives when its manifest names no namespace: kubectl's defaulting, except that the
 * MeshConfig lives with the mesh control plane. An empty {@code metadata.namespace} counts as none,
 * as it does for the API server.
 */
public final class Namespaces {

    /** The namespace kubectl applies a namespaced resource to when none is given. */
    public static final String DEFAULT = "default";

    private Namespaces() {}

    /**
     * @param type the resource's kind
     * @param meshNamespace the namespace of the mesh-wide MeshConfig
     * @param given the namespaces given, most specific first (metadata.namespace, then {@code -n}); each
     *     may be null or empty
     * @return the first namespace given, else the kind's default; null for a Namespace, which lives in none
     */
    public static String effective(Class<?> type, String meshNamespace, String... given) {
        if (io.fabric8.kubernetes.api.model.Namespace.class.isAssignableFrom(type)) {
            // Cluster-scoped: a namespace given for it means nothing (the API server ignores it too).
            return null;
        }
        for (String namespace : given) {
            if (namespace != null && !namespace.isEmpty()) {
                return namespace;
            }
        }
        return MeshConfig.class.isAssignableFrom(type) ? meshNamespace : DEFAULT;
    }

    /** Sets the resource's namespace to {@link #effective} of its own and then {@code fallback}. */
    public static void fillIn(HasMetadata resource, String meshNamespace, String... fallback) {
        String[] given = new String[fallback.length + 1];
        given[0] = resource.getMetadata().getNamespace();
        System.arraycopy(fallback, 0, given, 1, fallback.length);
        resource.getMetadata().setNamespace(effective(resource.getClass(), meshNamespace, given));
    }
}
