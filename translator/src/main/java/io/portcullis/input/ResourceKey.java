package io.portcullis.input;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Identifies one input resource the way kubectl prints it: {@code Egress curl/httpbin-80}. */
public record ResourceKey(String kind, String namespace, String name) implements Comparable<ResourceKey> {

    public static ResourceKey of(HasMetadata resource) {
        return new ResourceKey(
                resource.getKind(),
                resource.getMetadata().getNamespace(),
                resource.getMetadata().getName());
    }

    @Override
    public int compareTo(ResourceKey other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return kind + " " + (namespace == null ? "" : namespace + "/") + name;
    }
}
