package io.portcullis.source;

import java.util.List;
import java.util.Locale;

/**
 * What happened in a config source, counted by the control plane's metrics ({@code
 * portcullis_config_source_events_total{source,event}}); the label is the lower-case name. A fixed set, so
 * the metric's series stay few.
 */
public enum SourceEvent {
    /** Directory: a new or changed file settled and was read. */
    FILE_READ,
    /** Directory: a deleted file settled; its resources are withdrawn. */
    FILE_REMOVED,
    /** Directory: a settled file did not read cleanly (it keeps its last clean content; see the problems). */
    READ_ERROR,
    /** Directory: the directory itself could not be listed. */
    LISTING_ERROR,
    /** Kubernetes: an informer saw an object added (every object once at the first list, and after a relist). */
    OBJECT_ADDED,
    /** Kubernetes: an informer saw an object changed. */
    OBJECT_UPDATED,
    /** Kubernetes: an informer saw an object deleted. */
    OBJECT_DELETED,
    /** Kubernetes: a list or watch failed; the informer retries. */
    WATCH_ERROR,
    /** Changes were coalesced into an update equal to the last one, so nothing was applied. */
    UPDATE_UNCHANGED,
    /** A complete update was handed to the control plane and applied. */
    UPDATE_APPLIED,
    /** Applying an update failed; the next change applies everything again. */
    APPLY_FAILED;

    /** The events the directory source counts. */
    public static final List<SourceEvent> DIRECTORY =
            List.of(FILE_READ, FILE_REMOVED, READ_ERROR, LISTING_ERROR, UPDATE_APPLIED, APPLY_FAILED);

    /** The events the Kubernetes source counts. */
    public static final List<SourceEvent> KUBERNETES = List.of(
            OBJECT_ADDED, OBJECT_UPDATED, OBJECT_DELETED, WATCH_ERROR, UPDATE_UNCHANGED, UPDATE_APPLIED, APPLY_FAILED);

    /** The metric label. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
