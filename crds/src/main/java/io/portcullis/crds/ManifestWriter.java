package io.portcullis.crds;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.UncheckedIOException;
import java.util.Collection;

/**
 * Serializes resources back to kubectl-style YAML ({@code apiVersion}, {@code kind}, {@code
 * metadata}, {@code spec}; empty lists and null values omitted). What it writes, {@link
 * ManifestReader} reads back to an equal resource. Instances are immutable and thread-safe.
 */
public final class ManifestWriter {

    public ManifestWriter() {}

    /** One resource as a single YAML document (no leading {@code ---}), ending with a newline. */
    public String write(HasMetadata resource) {
        try {
            return Yaml.LENIENT.writeValueAsString(resource);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialize " + describe(resource), e);
        }
    }

    /** Several resources as one multi-document YAML stream separated by {@code ---} lines. */
    public String writeAll(Collection<? extends HasMetadata> resources) {
        StringBuilder sb = new StringBuilder();
        for (HasMetadata r : resources) {
            if (!sb.isEmpty()) {
                sb.append("---\n");
            }
            sb.append(write(r));
        }
        return sb.toString();
    }

    private static String describe(HasMetadata r) {
        return r.getKind()
                + " "
                + (r.getMetadata() == null
                        ? "?"
                        : ManifestReader.label(
                                        "",
                                        r.getMetadata().getNamespace(),
                                        r.getMetadata().getName())
                                .strip());
    }
}
