package io.portcullis.bench.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** One part's results file, {@code <results dir>/<part>.json} (bench/README.md, "Plug-in convention"). */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BenchPart(String part, String label, String started, String machine, List<BenchRow> rows) {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public BenchPart {
        rows = rows == null ? List.of() : List.copyOf(rows);
    }

    public static BenchPart read(Path file) {
        try {
            BenchPart part = JSON.readValue(file.toFile(), BenchPart.class);
            if (part.part() == null) {
                throw new IllegalArgumentException(file + ": no \"part\" field (bench/README.md)");
            }
            return part;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public void write(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            JSON.writeValue(file.toFile(), this);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
