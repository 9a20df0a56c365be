package io.portcullis.crds;

/**
 * Something wrong with (or, in {@link ManifestSet#ignored()}, skipped in) one YAML document.
 *
 * @param origin where the text came from, as given to {@link ManifestReader#read(String, String)}
 *     (e.g. a file name or {@code "-"} for stdin)
 * @param documentIndex 0-based index of the document in the stream, counting non-empty documents
 *     only (a leading {@code ---} or an empty document does not shift the numbering); items of a
 *     {@code kind: List} share the index of the list, and the message names the item; {@link
 *     #WHOLE_TEXT} when the problem is with the text as a whole (not UTF-8, too large)
 * @param resource {@code "Kind namespace/name"} (e.g. {@code "Egress curl/httpbin-80"}), {@code
 *     "Kind name"} without namespace, just {@code "Kind"} when the name is missing, or null when
 *     even the kind is unknown
 * @param message what is wrong, naming the field and how to fix it
 */
public record ManifestProblem(String origin, int documentIndex, String resource, String message) {

    /** {@link #documentIndex()} of a problem that concerns the whole text, not one document. */
    public static final int WHOLE_TEXT = -1;

    /**
     * One-line human form, e.g. {@code egress.yaml: document 2 (Egress curl/x): message}, or {@code
     * egress.yaml: message} for a problem with the whole text.
     */
    @Override
    public String toString() {
        return origin
                + (documentIndex == WHOLE_TEXT ? "" : ": document " + (documentIndex + 1))
                + (resource == null ? "" : " (" + resource + ")")
                + ": "
                + message;
    }
}
