package io.portcullis.source;

import io.portcullis.input.ResourceSnapshot;
import java.util.List;

/**
 * What a config source currently holds.
 *
 * @param problems input that could not be read (bad YAML, unknown apiVersion...), each naming where it is
 */
public record SourceUpdate(ResourceSnapshot snapshot, List<String> problems) {

    public SourceUpdate {
        problems = List.copyOf(problems);
    }
}
