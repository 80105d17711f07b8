package dev.claudecage.bench;

import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The results as they come: printed as a table per section, and kept for the JSON file. */
final class Report {

    final Map<String, Object> json = new LinkedHashMap<>();
    private final Map<String, Object> ratios = new LinkedHashMap<>();
    private final Map<String, Object> targets = new LinkedHashMap<>();
    private final Map<String, Object> skipped = new LinkedHashMap<>();

    Report() {
        json.put("ratios", ratios);
        json.put("targets", targets);
        json.put("skipped", skipped);
    }

    static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }

    static double round3(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    static double round2(double value) {
        return Math.round(value * 100) / 100.0;
    }

    void section(String title) {
        System.out.println();
        System.out.println("== " + title);
    }

    void skip(String part, String reason) {
        System.out.println("  skipped: " + reason);
        skipped.put(part, reason);
    }

    /** Prints the samples of a section as a table and keeps them under {@code key}. */
    void table(String key, Map<String, Trial.Samples> results) {
        Map<String, Object> section = new LinkedHashMap<>();
        System.out.printf(Locale.ROOT, "  %-62s %9s %9s %9s %4s%n", "", "median", "min", "max", "n");
        results.forEach((name, samples) -> {
            section.put(name, samples.toJson());
            if (samples.ok()) {
                System.out.printf(Locale.ROOT, "  %-62s %6.1f ms %6.1f ms %6.1f ms %4d%n", name, samples.medianMillis(),
                        samples.minMillis(), samples.maxMillis(), samples.nanos.size());
            } else if (samples.error != null) {
                System.out.printf(Locale.ROOT, "  %-62s failed: %s%n", name, Trial.firstLine(samples.error));
            }
        });
        json.put(key, section);
    }

    /** Prints and keeps the ratio of two medians, when both were measured. */
    Double ratio(String label, Map<String, Trial.Samples> results, String numerator, String denominator) {
        Trial.Samples top = results.get(numerator);
        Trial.Samples bottom = results.get(denominator);
        if (top == null || bottom == null || !top.ok() || !bottom.ok()) {
            return null;
        }
        double ratio = top.medianMillis() / bottom.medianMillis();
        System.out.printf(Locale.ROOT, "  ratio %-56s %6.2f%n", label, ratio);
        ratios.put(label, round2(ratio));
        return ratio;
    }

    /** Records whether a target on the ratio named {@code ratio} (against Docker) holds, naming that ratio for the chart. */
    void dockerTarget(String name, String ratio, Double value, double bound) {
        target(name, value, bound, "x docker").put("ratio", ratio);
    }

    /** Records whether a target with an upper bound holds; a null value means it could not be measured here. */
    Map<String, Object> target(String name, Double value, double bound, String unit) {
        return target(name, value, bound, unit, false);
    }

    /** Records whether a target with a lower bound (a throughput) holds. */
    Map<String, Object> floorTarget(String name, Double value, double floor, String unit) {
        return target(name, value, floor, unit, true);
    }

    private Map<String, Object> target(String name, Double value, double bound, String unit, boolean floor) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("bound", bound);
        if (floor) {
            entry.put("at_least", true);
        }
        entry.put("unit", unit);
        if (value == null) {
            entry.put("met", "not measured");
            System.out.printf(Locale.ROOT, "  target %-50s not measured%n", name);
        } else {
            boolean met = floor ? value >= bound : value <= bound;
            entry.put("value", round2(value));
            entry.put("met", met);
            System.out.printf(Locale.ROOT, "  target %-50s %s (%.2f %s, %s %.2f)%n", name, met ? "MET" : "NOT MET", value,
                    unit, floor ? "at least" : "bound", bound);
        }
        targets.put(name, entry);
        return entry;
    }

    void put(String key, Object value) {
        json.put(key, value);
    }

    Path write(Path directory, String name) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(name + ".json");
        Files.writeString(file, Json.write(json));
        return file;
    }

    /** The median of some numbers, for the few places that keep plain values. */
    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
