package io.portcullis.source;

import java.util.function.Consumer;

/**
 * Where Egress, HTTPRouteGroup and MeshConfig resources come from: a directory of manifests today,
 * Kubernetes informers later. A source calls the listener with a complete, consistent snapshot every
 * time its content changes, and once at start.
 */
public interface ConfigSource extends AutoCloseable {

    void start(Consumer<SourceUpdate> listener) throws Exception;

    @Override
    void close();
}
