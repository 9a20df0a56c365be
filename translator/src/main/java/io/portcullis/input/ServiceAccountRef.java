package io.portcullis.input;

import java.util.Objects;

/** A workload identity: the namespace and name of a Kubernetes ServiceAccount. Sidecars are grouped by it. */
public record ServiceAccountRef(String namespace, String name) implements Comparable<ServiceAccountRef> {

    public ServiceAccountRef {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
    }

    /** Parses {@code namespace/name}, the form used on the command line and in the debug endpoint. */
    public static ServiceAccountRef parse(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException(
                    "identity '" + text + "' must be written namespace/serviceAccount, e.g. curl/curl");
        }
        return new ServiceAccountRef(text.substring(0, slash), text.substring(slash + 1));
    }

    @Override
    public int compareTo(ServiceAccountRef other) {
        int byNamespace = namespace.compareTo(other.namespace);
        return byNamespace != 0 ? byNamespace : name.compareTo(other.name);
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
