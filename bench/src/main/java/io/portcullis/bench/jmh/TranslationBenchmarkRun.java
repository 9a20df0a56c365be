package io.portcullis.bench.jmh;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link TranslationBenchmarks} (what {@code bench/jmh} starts) and writes one JSON file of rows, each
 * with the 1-minute load average read when its benchmark ended, since a figure from a busy machine means
 * little without it.
 *
 * <pre>
 *   TranslationBenchmarkRun [--smoke] [--results-dir DIR] [--label LABEL]
 * </pre>
 *
 * <p>It writes {@code DIR/jmh.json} in bench/README.md's convention: one row per stage and size, the JMH
 * score (average milliseconds per operation) as {@code value}, its 99.9% error in {@code note}.
 *
 * <p>A full run (about three minutes) gives every stage at 200 and 10,000 policies one forked JVM, two
 * warm-up and three measured iterations of one second: enough to see which stage dominates and how it
 * scales, not a statistically tight figure. {@code --smoke} runs each stage once, in this JVM, at 200
 * policies only: it proves the benchmarks run and report (CI), in seconds; its numbers mean nothing.
 */
public final class TranslationBenchmarkRun {

    /** The stages in pipeline order, as the benchmark methods are named. */
    static final List<String> STAGES = List.of(
            "readManifests", "validate", "modelOfOneIdentity", "envoyResourcesOfOneIdentity", "translateAllIdentities");

    private TranslationBenchmarkRun() {}

    public static void main(String[] args) throws IOException, RunnerException {
        boolean smoke = false;
        Path out = null;
        String label = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> smoke = true;
                case "--results-dir", "--out" -> out = Path.of(value(args, i++));
                case "--label" -> label = value(args, i++);
                default ->
                    throw new IllegalArgumentException("unknown argument " + args[i]
                            + "; usage: TranslationBenchmarkRun [--smoke] [--results-dir DIR] [--label LABEL]");
            }
        }
        String started = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(ChronoUnit.SECONDS));
        if (out == null) {
            out = Path.of(
                    "bench",
                    "results",
                    DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT)
                            .withZone(ZoneOffset.UTC)
                            .format(Instant.now()));
        }
        Files.createDirectories(out);

        List<Map<String, Object>> rows = new ArrayList<>();
        List<String> sizes = smoke ? List.of("200") : List.of("200", "10000");
        for (String policies : sizes) {
            for (String stage : STAGES) {
                for (RunResult run : new Runner(options(stage, policies, smoke)).run()) {
                    rows.add(row(stage, run.getParams().getParam("policies"), run.getPrimaryResult(), smoke));
                }
            }
        }
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("part", "jmh");
        document.put("label", label);
        document.put("started", started);
        document.put(
                "machine",
                Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name")
                        + " " + System.getProperty("os.version") + ", " + System.getProperty("java.vm.name") + " "
                        + Runtime.version());
        document.put("smoke", smoke);
        document.put("rows", rows);
        Path file = out.resolve("jmh.json");
        Files.writeString(
                file,
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(document) + "\n",
                StandardCharsets.UTF_8);
        System.out.println("wrote " + file);
    }

    private static String value(String[] args, int option) {
        if (option + 1 == args.length) {
            throw new IllegalArgumentException(args[option] + " needs a value");
        }
        return args[option + 1];
    }

    private static org.openjdk.jmh.runner.options.Options options(String stage, String policies, boolean smoke) {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(TranslationBenchmarks.class.getName() + "\\." + stage + "$")
                .param("policies", policies)
                .timeUnit(TimeUnit.MILLISECONDS)
                .shouldFailOnError(true);
        if (smoke) {
            return options.forks(0)
                    .warmupIterations(0)
                    .measurementIterations(1)
                    .measurementTime(TimeValue.milliseconds(100))
                    .build();
        }
        return options.forks(1)
                .jvmArgsAppend("-Xms1g", "-Xmx4g")
                .warmupIterations(2)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(3)
                .measurementTime(TimeValue.seconds(1))
                .build();
    }

    private static Map<String, Object> row(String stage, String policies, Result<?> result, boolean smoke)
            throws IOException {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("what", "JMH " + stage);
        row.put("size", TranslationBenchmarks.IDENTITIES + " identities, " + policies + " policies");
        row.put("unit", "ms");
        row.put("value", result.getScore());
        row.put("load", loadAverage());
        if ("translateAllIdentities".equals(stage) && "10000".equals(policies)) {
            row.put("target", "< 500 ms"); // the "full translation of 10,000 policies < 0.5 s"
        }
        double error = result.getScoreError();
        row.put(
                "note",
                smoke
                        ? "smoke: one cold operation, not a measurement"
                        : Double.isNaN(error)
                                ? "average of one fork"
                                : String.format(Locale.ROOT, "average +- %.3f ms (99.9%%)", error));
        return row;
    }

    /** {@code /proc/loadavg}'s first three fields (Linux), or null elsewhere. */
    private static String loadAverage() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        if (!Files.isReadable(loadavg)) {
            return null;
        }
        String[] fields = Files.readString(loadavg).trim().split(" ", 4); // "1.52 1.40 1.21 2/345 6789"
        return fields[0] + " " + fields[1] + " " + fields[2];
    }
}
