package io.portcullis.source;

/**
 * Where a config source reports its events: the control plane's metrics, or nowhere. Called from the
 * source's own threads (watcher, informers), so it must be quick and thread-safe.
 */
@FunctionalInterface
public interface SourceEvents {

    /** Counts nothing: for sources outside {@code serve} (tests, {@code translate}). */
    SourceEvents NONE = event -> {};

    void happened(SourceEvent event);
}
