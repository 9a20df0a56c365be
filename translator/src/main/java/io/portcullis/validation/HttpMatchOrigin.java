package io.portcullis.validation;

import io.portcullis.crds.HTTPRouteGroup;
import java.util.Objects;
import java.util.Optional;

/**
 * The entry of an HTTPRouteGroup's {@code spec.matches} that an {@link HttpRequestMatch} was read from.
 * Printed {@code HTTPRouteGroup:curl/api#read} (the match's name), or {@code HTTPRouteGroup:curl/api#0}
 * (its index) when the entry has no name; Envoy route names are this text, so denial logs and config
 * dumps point at the entry to edit.
 *
 * @param index the entry's position in {@code spec.matches}
 * @param name  the entry's {@code name}, when it has one
 */
public record HttpMatchOrigin(String namespace, String routeGroup, int index, Optional<String> name) {

    public HttpMatchOrigin {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(routeGroup, "routeGroup");
        Objects.requireNonNull(name, "name");
        if (index < 0) {
            throw new IllegalArgumentException("index " + index + " is not a list position");
        }
    }

    @Override
    public String toString() {
        return HTTPRouteGroup.KIND + ":" + namespace + "/" + routeGroup + "#" + name.orElse(String.valueOf(index));
    }
}
