package io.portcullis.bench.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The PNG of bench/run: one line per distribution row in ms (latencies, CPU per change), from p50 to max on a logarithmic axis, with
 * p50, p90 and p99 marked, so a before and an after run can be laid side by side. Pure java.awt, headless.
 */
public final class LatencyPlot {

    private static final int LABEL_WIDTH = 760;
    private static final int PLOT_WIDTH = 640;
    private static final int ROW_HEIGHT = 24;
    private static final int TOP = 60;
    private static final int BOTTOM = 40;
    private static final Color P50 = new Color(0x1f77b4);
    private static final Color P90 = new Color(0x2ca02c);
    private static final Color P99 = new Color(0xd62728);
    private static final Color MAX = new Color(0x555555);

    private LatencyPlot() {}

    public static void write(String title, List<BenchRow> rows, Path png) {
        System.setProperty("java.awt.headless", "true");
        int width = LABEL_WIDTH + PLOT_WIDTH + 40;
        int height = TOP + Math.max(1, rows.size()) * ROW_HEIGHT + BOTTOM;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, 10, 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            legend(g, LABEL_WIDTH, 20);

            double lo = 1;
            double hi = 10;
            for (BenchRow row : rows) {
                hi = Math.max(hi, row.max() == null ? row.p50() : row.max());
            }
            int decades = (int) Math.ceil(Math.log10(hi));
            int plotTop = TOP;
            int plotBottom = TOP + rows.size() * ROW_HEIGHT;
            for (int d = 0; d <= decades; d++) {
                int x = x(Math.pow(10, d), lo, decades);
                g.setColor(new Color(0xdddddd));
                g.drawLine(x, plotTop - 5, x, plotBottom);
                g.setColor(Color.DARK_GRAY);
                g.drawString(axisLabel(Math.pow(10, d)), x - 12, plotBottom + 16);
            }
            g.drawString("milliseconds (log scale)", LABEL_WIDTH + PLOT_WIDTH / 2 - 50, plotBottom + 32);
            for (int i = 0; i < rows.size(); i++) {
                BenchRow row = rows.get(i);
                int y = TOP + i * ROW_HEIGHT + ROW_HEIGHT / 2;
                g.setColor(Color.BLACK);
                g.drawString(label(g, row.what() + " [" + row.size() + "]"), 10, y + 4);
                double max = row.max() == null ? row.p50() : row.max();
                g.setColor(MAX);
                g.setStroke(new BasicStroke(2));
                g.drawLine(x(row.p50(), lo, decades), y, x(max, lo, decades), y);
                // Largest first, so equal percentiles (few samples) show as rings, not one hidden dot.
                mark(g, MAX, x(max, lo, decades), y, 14);
                if (row.p99() != null) {
                    mark(g, P99, x(row.p99(), lo, decades), y, 11);
                }
                if (row.p90() != null) {
                    mark(g, P90, x(row.p90(), lo, decades), y, 8);
                }
                mark(g, P50, x(row.p50(), lo, decades), y, 5);
            }
        } finally {
            g.dispose();
        }
        try {
            ImageIO.write(image, "png", png.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
    }

    private static void legend(Graphics2D g, int x, int y) {
        Color[] colors = {P50, P90, P99, MAX};
        String[] names = {"p50", "p90", "p99", "max"};
        for (int i = 0; i < colors.length; i++) {
            mark(g, colors[i], x + i * 70, y - 4, 10);
            g.setColor(Color.BLACK);
            g.drawString(names[i], x + i * 70 + 8, y);
        }
    }

    private static void mark(Graphics2D g, Color color, int x, int y, int diameter) {
        g.setColor(color);
        g.fillOval(x - diameter / 2, y - diameter / 2, diameter, diameter);
    }

    private static int x(double millis, double lo, int decades) {
        double clamped = Math.max(lo, millis);
        return LABEL_WIDTH + (int) Math.round(Math.log10(clamped / lo) / Math.max(1, decades) * (PLOT_WIDTH - 20));
    }

    private static String axisLabel(double millis) {
        return millis >= 1000 ? (long) (millis / 1000) + " s" : (long) millis + " ms";
    }

    private static String label(Graphics2D g, String text) {
        if (g.getFontMetrics().stringWidth(text) <= LABEL_WIDTH - 20) {
            return text;
        }
        String shown = text;
        while (shown.length() > 4 && g.getFontMetrics().stringWidth(shown + "...") > LABEL_WIDTH - 20) {
            shown = shown.substring(0, shown.length() - 1);
        }
        return shown + "...";
    }
}
