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
        if (kind.equals(other.kind) && java.util.Objects.equals(namespace, other.namespace)) {
            return name.compareTo(other.name); // the common case, and String's own compare is the fastest
        }
        return PrintedOrder.compare(printedParts(), other.printedParts());
    }

    private String[] printedParts() {
        return namespace == null ? new String[] {kind, " ", name} : new String[] {kind, " ", namespace, "/", name};
    }

    @Override
    public String toString() {
        return kind + " " + (namespace == null ? "" : namespace + "/") + name;
    }
}
