package io.portcullis.validation;

import io.portcullis.crds.Egress;
import io.portcullis.input.PrintedOrder;
import io.portcullis.input.ResourceKey;
import java.util.Objects;

/**
 * The Egress policy that allows something. Validation stamps it on every rule, and the model carries it
 * to every grant, so a config dump, an Envoy route name or a warning can say which policy to look at.
 * Printed as kubectl prints the resource: {@code Egress curl/httpbin-80}.
 */
public record PolicyOrigin(String namespace, String name) implements Comparable<PolicyOrigin> {

    public PolicyOrigin {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
    }

    /** The origin of the Egress {@code key} names; any other kind is a programming error. */
    public static PolicyOrigin of(ResourceKey key) {
        if (!Egress.KIND.equals(key.kind())) {
            throw new IllegalArgumentException(key + " is not an " + Egress.KIND + " policy");
        }
        return new PolicyOrigin(key.namespace(), key.name());
    }

    /** The input resource this origin names, e.g. to report a problem with it. */
    public ResourceKey resource() {
        return new ResourceKey(Egress.KIND, namespace, name);
    }

    /**
     * Ordered as the printed form sorts, not field by field ({@code curl-a/x} before {@code curl/x}):
     * route names join origins in this order, and they were strings first; a different order would
     * rename routes that operators and the golden files already know. Every origin prints the same kind
     * first, so the order is that of {@code namespace/name}.
     */
    @Override
    public int compareTo(PolicyOrigin other) {
        if (namespace.equals(other.namespace)) {
            return name.compareTo(other.name); // the common case, and String's own compare is the fastest
        }
        return PrintedOrder.compare(
                new String[] {namespace, "/", name}, new String[] {other.namespace, "/", other.name});
    }

    @Override
    public String toString() {
        return Egress.KIND + " " + namespace + "/" + name;
    }
}
