package io.portcullis.bench.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Arrays;
import java.util.List;

/**
 * One figure of a benchmark part, as {@code <part>.json} holds it (bench/README.md, "Plug-in convention"):
 * a distribution (p50/p90/p99/max over {@code samples} repetitions) or a single {@code value}, with the load
 * average when it was measured.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BenchRow(
        String what,
        String size,
        String unit,
        Integer samples,
        Double p50,
        Double p90,
        Double p99,
        Double max,
        Double value,
        String cpu,
        String load,
        String target,
        String note) {

    /**
     * The percentiles of {@code samples} by nearest rank (p99 of fewer than 100 samples is therefore the
     * largest but one at most: with 20 samples it is the maximum).
     */
    public static BenchRow distribution(String what, String size, String unit, List<Double> samples, String load) {
        if (samples.isEmpty()) {
            return failed(what, size, unit, load, "no samples");
        }
        double[] sorted = samples.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return new BenchRow(
                what,
                size,
                unit,
                sorted.length,
                rank(sorted, 50),
                rank(sorted, 90),
                rank(sorted, 99),
                sorted[sorted.length - 1],
                null,
                null,
                load,
                null,
                null);
    }

    public static BenchRow single(String what, String size, String unit, double value, String load) {
        return new BenchRow(what, size, unit, null, null, null, null, null, value, null, load, null, null);
    }

    /** A row whose figure could not be measured; {@code note} says why. */
    public static BenchRow failed(String what, String size, String unit, String load, String note) {
        return new BenchRow(what, size, unit, null, null, null, null, null, null, null, load, null, note);
    }

    public BenchRow withCpu(String cpu) {
        return new BenchRow(what, size, unit, samples, p50, p90, p99, max, value, cpu, load, target, note);
    }

    public BenchRow withTarget(String target) {
        return new BenchRow(what, size, unit, samples, p50, p90, p99, max, value, cpu, load, target, note);
    }

    public BenchRow withNote(String note) {
        return new BenchRow(what, size, unit, samples, p50, p90, p99, max, value, cpu, load, target, note);
    }

    /** Whether this row has percentiles (the plot draws only those). */
    public boolean isDistribution() {
        return p50 != null;
    }

    /** The headline figure: p50 of a distribution, else the single value; null when there is none. */
    public Double headline() {
        return p50 != null ? p50 : value;
    }

    private static double rank(double[] sorted, int percentile) {
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
