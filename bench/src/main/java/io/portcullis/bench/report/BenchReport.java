package io.portcullis.bench.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * bench/run's report step. {@code report DIR}: every {@code DIR/<part>.json} as one markdown table on
 * stdout and in {@code DIR/results.md}, and {@code DIR/plot.png}. {@code compare BEFORE AFTER}: the rows of
 * two runs side by side, on stdout and in {@code AFTER/compare.md}. Exits non-zero when there is nothing to
 * report, so a bench that produced no figure fails.
 */
public final class BenchReport {

    private BenchReport() {}

    public static void main(String[] args) {
        if (args.length == 2 && args[0].equals("report")) {
            System.exit(report(Path.of(args[1])));
        } else if (args.length == 3 && args[0].equals("compare")) {
            System.exit(compare(Path.of(args[1]), Path.of(args[2])));
        } else {
            System.err.println("usage: BenchReport report DIR | compare BEFORE_DIR AFTER_DIR");
            System.exit(2);
        }
    }

    static int report(Path dir) {
        List<BenchPart> parts = parts(dir);
        if (parts.stream().allMatch(part -> part.rows().isEmpty())) {
            System.err.println("bench: no results in " + dir + " (no <part>.json with rows)");
            return 1;
        }
        String label = parts.stream()
                .map(BenchPart::label)
                .filter(l -> l != null && !l.isBlank())
                .findFirst()
                .orElse("");
        String title = "Portcullis benchmarks " + label + " (" + dir.getFileName() + ")";
        String table = ResultsTable.render(parts);
        String machine = parts.stream()
                .map(BenchPart::machine)
                .filter(m -> m != null)
                .findFirst()
                .orElse("unknown machine");
        write(dir.resolve("results.md"), "# " + title + "\n\n" + machine + "\n\n" + table);
        System.out.print(table);
        try {
            LatencyPlot.write(title, ResultsTable.distributions(parts), dir.resolve("plot.png"));
            System.out.println("\nwrote " + dir.resolve("results.md") + " and " + dir.resolve("plot.png"));
        } catch (RuntimeException | Error e) {
            // The table is the result; a machine without fonts still gets it.
            System.err.println("bench: could not draw " + dir.resolve("plot.png") + ": " + e);
        }
        return 0;
    }

    static int compare(Path before, Path after) {
        List<BenchPart> was = parts(before);
        List<BenchPart> is = parts(after);
        if (was.isEmpty() && is.isEmpty()) {
            System.err.println("bench: no results in " + before + " nor " + after);
            return 1;
        }
        String table = ResultsTable.compare(was, is);
        write(
                after.resolve("compare.md"),
                "# Before (" + before.getFileName() + ") and after (" + after.getFileName() + ")\n\n" + table);
        System.out.print(table);
        return 0;
    }

    /** Every {@code <part>.json} of {@code dir}, by name. */
    static List<BenchPart> parts(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json"))
                    .sorted()
                    .map(BenchPart::read)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
