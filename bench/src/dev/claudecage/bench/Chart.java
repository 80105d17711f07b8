package dev.claudecage.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A results file as a picture (bench/results/DATE-HOST.png beside DATE-HOST.json): a bar per measurement
 * against Docker, Docker at 1.0, on a logarithmic scale so that twice as fast and twice as slow are as long,
 * with the targets marked. Plain Java2D, headless: nothing to install.
 *
 * <p>Also runs on its own, to redraw a results file: {@code java -cp JAR:CLASSES dev.claudecage.bench.Chart FILE.json}.
 */
final class Chart {

    /** One measurement: claude-cage's median over Docker's, and the target for it where there is one. */
    record Bar(String label, double ratio, Double target) {
    }

    private static final int WIDTH = 900;
    private static final int LEFT = 330;
    private static final int RIGHT = 40;
    private static final int TOP = 64;
    private static final int ROW = 34;
    private static final double LOWEST = 0.25;
    private static final double HIGHEST = 16;
    private static final Color FASTER = new Color(0x3a8a4f);
    private static final Color SLOWER = new Color(0xd9822b);
    private static final Color TARGET = new Color(0xc0392b);

    private Chart() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Chart RESULTS.json (writes RESULTS.png beside it)");
            System.exit(2);
        }
        Path results = Path.of(args[0]);
        System.out.println("chart: " + write(Json.mapper().readTree(results.toFile()), results));
    }

    /** Draws {@code results} into the PNG beside {@code jsonFile}; returns its path. */
    static Path write(JsonNode results, Path jsonFile) throws IOException {
        String name = jsonFile.getFileName().toString().replaceFirst("\\.json$", "");
        Path png = jsonFile.resolveSibling(name + ".png");
        ImageIO.write(draw(bars(results), title(results)), "png", png.toFile());
        return png;
    }

    /** Every ratio against Docker, in the file's order, with the target that names it. */
    static List<Bar> bars(JsonNode results) {
        List<Bar> bars = new ArrayList<>();
        for (var ratio : results.path("ratios").properties()) {
            if (!ratio.getKey().contains("/ docker")) {
                continue;
            }
            Double target = null;
            for (JsonNode entry : results.path("targets")) {
                if (ratio.getKey().equals(entry.path("ratio").asText())) {
                    target = entry.path("bound").asDouble();
                }
            }
            bars.add(new Bar(ratio.getKey(), ratio.getValue().asDouble(), target));
        }
        return bars;
    }

    static String title(JsonNode results) {
        JsonNode machine = results.path("machine");
        return String.format(Locale.ROOT, "%s on %s: %s vCPUs, %s GiB, runc %s, Docker %s",
                results.path("date").asText().replaceFirst("T.*", ""), results.path("host").asText(),
                machine.path("nproc").asText(), machine.path("memory_gib").asText(),
                machine.path("runc").asText().replaceFirst("runc version ", ""),
                machine.path("docker").asText().replaceFirst("client ([^,+~]*).*", "$1"));
    }

    static BufferedImage draw(List<Bar> bars, String subtitle) {
        int height = TOP + ROW * Math.max(bars.size(), 1) + 56;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString("claude-cage against Docker: median wall time, Docker = 1.0 (shorter is faster)", 16, 26);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.DARK_GRAY);
            g.drawString(subtitle, 16, 46);

            int bottom = TOP + ROW * bars.size();
            // The scale: a light line at each power of two, Docker's 1.0 darker.
            for (double tick = LOWEST; tick <= HIGHEST; tick *= 2) {
                int x = x(tick);
                g.setColor(tick == 1.0 ? Color.BLACK : new Color(0xdddddd));
                g.setStroke(new BasicStroke(tick == 1.0 ? 2f : 1f));
                g.drawLine(x, TOP - 6, x, bottom + 4);
                g.setColor(Color.DARK_GRAY);
                String label = tick < 1 ? String.format(Locale.ROOT, "%.2f", tick).replaceFirst("0+$", "") : (int) tick + "";
                g.drawString(tick == 1.0 ? "1 = Docker" : label, x - (tick == 1.0 ? 28 : 8), bottom + 20);
            }
            g.setStroke(new BasicStroke(1f));
            int row = 0;
            for (Bar bar : bars) {
                int y = TOP + ROW * row++;
                g.setColor(Color.BLACK);
                g.drawString(bar.label(), 16, y + ROW / 2 + 4);
                int from = x(1.0);
                int to = x(Math.max(LOWEST, Math.min(HIGHEST, bar.ratio())));
                g.setColor(bar.ratio() <= 1.0 ? FASTER : SLOWER);
                g.fillRect(Math.min(from, to), y + 7, Math.max(Math.abs(to - from), 2), ROW - 14);
                g.setColor(Color.BLACK);
                String value = String.format(Locale.ROOT, "%.2f", bar.ratio());
                int textWidth = g.getFontMetrics().stringWidth(value);
                g.drawString(value, bar.ratio() >= 1.0 ? to + 6 : to - textWidth - 6, y + ROW / 2 + 4);
                if (bar.target() != null) {
                    int tx = x(bar.target());
                    g.setColor(TARGET);
                    g.setStroke(new BasicStroke(3f));
                    g.drawLine(tx, y + 3, tx, y + ROW - 3);
                    g.setStroke(new BasicStroke(1f));
                }
            }
            g.setColor(TARGET);
            g.fillRect(16, height - 22, 3, 14);
            g.setColor(Color.DARK_GRAY);
            g.drawString("target (the bar's end left of it: met)    green: faster than Docker, orange: slower;"
                    + " log scale", 26, height - 10);
        } finally {
            g.dispose();
        }
        return image;
    }

    private static int x(double ratio) {
        double span = Math.log(HIGHEST / LOWEST);
        return LEFT + (int) Math.round((WIDTH - LEFT - RIGHT) * Math.log(ratio / LOWEST) / span);
    }
}
