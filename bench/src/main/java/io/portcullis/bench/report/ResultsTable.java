package io.portcullis.bench.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The markdown tables bench/run prints: every row of every part, and a before/after comparison. */
public final class ResultsTable {

    private ResultsTable() {}

    /** One table of every row of {@code parts}, in order. */
    public static String render(List<BenchPart> parts) {
        StringBuilder table = new StringBuilder();
        table.append("| part | what | size | p50 | p99 | max | unit | CPU | load | target | note |\n");
        table.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (BenchPart part : parts) {
            for (BenchRow row : part.rows()) {
                table.append("| ")
                        .append(cell(part.part()))
                        .append(" | ")
                        .append(cell(row.what()))
                        .append(" | ")
                        .append(cell(row.size()))
                        .append(" | ")
                        .append(figure(row.headline()))
                        .append(" | ")
                        .append(figure(row.p99()))
                        .append(" | ")
                        .append(figure(row.max()))
                        .append(" | ")
                        .append(cell(row.unit()))
                        .append(" | ")
                        .append(cell(row.cpu()))
                        .append(" | ")
                        .append(cell(row.load()))
                        .append(" | ")
                        .append(cell(row.target()))
                        .append(" | ")
                        .append(cell(row.note()))
                        .append(" |\n");
            }
        }
        return table.toString();
    }

    /**
     * Rows of both runs matched on (part, what, size): p50 and p99 (or the value) before and after. A row
     * only one run has is shown with n/a on the other side.
     */
    public static String compare(List<BenchPart> before, List<BenchPart> after) {
        Map<String, BenchRow[]> matched = new LinkedHashMap<>();
        Map<String, String[]> keys = new LinkedHashMap<>();
        collect(before, 0, matched, keys);
        collect(after, 1, matched, keys);
        StringBuilder table = new StringBuilder();
        table.append("| part | what | size | before p50 | before p99 | after p50 | after p99 | unit | target |\n");
        table.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Map.Entry<String, BenchRow[]> entry : matched.entrySet()) {
            String[] key = keys.get(entry.getKey());
            BenchRow was = entry.getValue()[0];
            BenchRow is = entry.getValue()[1];
            BenchRow any = is != null ? is : was;
            table.append("| ")
                    .append(cell(key[0]))
                    .append(" | ")
                    .append(cell(key[1]))
                    .append(" | ")
                    .append(cell(key[2]))
                    .append(" | ")
                    .append(was == null ? "n/a" : figure(was.headline()))
                    .append(" | ")
                    .append(was == null ? "n/a" : figure(was.p99()))
                    .append(" | ")
                    .append(is == null ? "n/a" : figure(is.headline()))
                    .append(" | ")
                    .append(is == null ? "n/a" : figure(is.p99()))
                    .append(" | ")
                    .append(cell(any.unit()))
                    .append(" | ")
                    .append(cell(any.target()))
                    .append(" |\n");
        }
        return table.toString();
    }

    private static void collect(
            List<BenchPart> parts, int side, Map<String, BenchRow[]> matched, Map<String, String[]> keys) {
        for (BenchPart part : parts) {
            for (BenchRow row : part.rows()) {
                String key = part.part() + "\u0000" + row.what() + "\u0000" + row.size();
                keys.putIfAbsent(key, new String[] {part.part(), row.what(), row.size()});
                matched.computeIfAbsent(key, k -> new BenchRow[2])[side] = row;
            }
        }
    }

    /** A figure with the precision it deserves: one decimal below 100, whole numbers above; n/a for none. */
    static String figure(Double value) {
        if (value == null || value.isNaN()) {
            return "n/a";
        }
        return Math.abs(value) < 100
                ? String.format(Locale.ROOT, "%.1f", value)
                : String.format(Locale.ROOT, "%.0f", value);
    }

    private static String cell(String text) {
        return text == null ? "" : text.replace("|", "\\|").replace("\n", " ");
    }

    static List<BenchRow> distributions(List<BenchPart> parts) {
        List<BenchRow> rows = new ArrayList<>();
        parts.forEach(part -> part.rows().stream()
                .filter(BenchRow::isDistribution)
                .filter(row -> "ms".equals(row.unit()))
                .forEach(rows::add));
        return rows;
    }
}
