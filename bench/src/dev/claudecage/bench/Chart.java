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
 * with the targets marked; below them, under a heading of their own, gVisor's bars against runc, runc at 1.0.
 * Plain Java2D, headless: nothing to install.
 *
 * <p>Also runs on its own, to redraw a results file: {@code java -cp JAR:CLASSES dev.claudecage.bench.Chart FILE.json}.
 */
final class Chart {

    /** One measurement: its median over its baseline's (Docker's, or runc's for gVisor), and its target where there is one. */
    record Bar(String label, double ratio, Double target, String baseline) {
    }

    static final String DOCKER = "Docker";
    static final String RUNC = "runc";

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

    /** Every ratio against Docker, in the file's order, with the target that names it; then gVisor's against runc. */
    static List<Bar> bars(JsonNode results) {
        List<Bar> bars = new ArrayList<>();
        List<Bar> gvisor = new ArrayList<>();
        for (var ratio : results.path("ratios").properties()) {
            if (ratio.getKey().contains("runsc / runc")) {
                gvisor.add(new Bar(ratio.getKey(), ratio.getValue().asDouble(), null, RUNC));
                continue;
            }
            if (!ratio.getKey().contains("/ docker")) {
                continue;
            }
            Double target = null;
            for (JsonNode entry : results.path("targets")) {
                if (ratio.getKey().equals(entry.path("ratio").asText())) {
                    target = entry.path("bound").asDouble();
                }
            }
            bars.add(new Bar(ratio.getKey(), ratio.getValue().asDouble(), target, DOCKER));
        }
        bars.addAll(gvisor);
        return bars;
    }

    static String title(JsonNode results) {
        JsonNode machine = results.path("machine");
        String runsc = machine.path("runsc").asText("unavailable");
        return String.format(Locale.ROOT, "%s on %s: %s vCPUs, %s GiB, runc %s, Docker %s%s",
                results.path("date").asText().replaceFirst("T.*", ""), results.path("host").asText(),
                machine.path("nproc").asText(), machine.path("memory_gib").asText(),
                machine.path("runc").asText().replaceFirst("runc version ", ""),
                machine.path("docker").asText().replaceFirst("client ([^,+~]*).*", "$1"),
                runsc.equals("unavailable") ? "" : ", runsc " + runsc.replaceFirst("runsc version (release-)?", ""));
    }

    static BufferedImage draw(List<Bar> bars, String subtitle) {
        boolean againstDocker = bars.stream().anyMatch(bar -> bar.baseline().equals(DOCKER));
        boolean againstRunc = bars.stream().anyMatch(bar -> bar.baseline().equals(RUNC));
        // gVisor's bars get a heading of their own below Docker's; alone (a run of that section only), the title says it.
        boolean heading = againstDocker && againstRunc;
        String one = againstDocker ? DOCKER + (againstRunc ? " (runc)" : "") : RUNC;
        int rows = bars.size() + (heading ? 1 : 0);
        int height = TOP + ROW * Math.max(rows, 1) + 56;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(againstDocker ? "claude-cage against Docker: median wall time, Docker = 1.0 (shorter is faster)"
                    : "gVisor (runsc) against runc: median wall time, runc = 1.0 (shorter is faster)", 16, 26);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.DARK_GRAY);
            g.drawString(subtitle, 16, 46);

            int bottom = TOP + ROW * rows;
            // The scale: a light line at each power of two, Docker's 1.0 darker.
            for (double tick = LOWEST; tick <= HIGHEST; tick *= 2) {
                int x = x(tick);
                g.setColor(tick == 1.0 ? Color.BLACK : new Color(0xdddddd));
                g.setStroke(new BasicStroke(tick == 1.0 ? 2f : 1f));
                g.drawLine(x, TOP - 6, x, bottom + 4);
                g.setColor(Color.DARK_GRAY);
                String label = tick < 1 ? String.format(Locale.ROOT, "%.2f", tick).replaceFirst("0+$", "") : (int) tick + "";
                String mark = tick == 1.0 ? "1 = " + one : label;
                g.drawString(mark, x - (tick == 1.0 ? g.getFontMetrics().stringWidth(mark) / 2 : 8), bottom + 20);
            }
            g.setStroke(new BasicStroke(1f));
            int row = 0;
            String baseline = bars.isEmpty() ? DOCKER : bars.get(0).baseline();
            for (Bar bar : bars) {
                if (!bar.baseline().equals(baseline)) {
                    baseline = bar.baseline();
                    int y = TOP + ROW * row++;
                    g.setColor(Color.WHITE);
                    g.fillRect(0, y + 2, WIDTH, ROW - 4);
                    g.setColor(Color.BLACK);
                    g.setFont(g.getFont().deriveFont(Font.BOLD));
                    g.drawString("gVisor (runsc) against runc: runc = 1.0, the same cage and command", 16, y + ROW / 2 + 8);
                    g.setFont(g.getFont().deriveFont(Font.PLAIN));
                }
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
            g.drawString("target (the bar's end left of it: met)    green: faster than " + one + ", orange: slower;"
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
