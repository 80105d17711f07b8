package dev.claudecage.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the time of one {@code run --network none -- true} goes. Each run logs when the classes
 * that mark a phase load, with the wall clock and the JVM's uptime
 * ({@code -Xlog:class+load:file=F:timemillis,uptimenanos}); the phases are the medians of the
 * differences. A phase whose marker class is renamed shows as missing, not as wrong.
 */
final class Phases {

    private static final Pattern LINE = Pattern.compile("^\\[(\\d+)ms\\]\\[(\\d+)ns\\] (\\S+) ");

    /** Marker classes, in the order they load; each ends the phase named beside it. */
    private static final String[][] MARKERS = {
            {"JVM start (to cli.Main)", "dev.claudecage.cli.Main"},
            {"picocli (to the command's call)", "dev.claudecage.host.Host"},
            {"configuration", "dev.claudecage.runtime.OneShotRun"},
            {"plan + policy (runtime, seccomp, AppArmor)", "dev.claudecage.runtime.Cage"},
            {"root + spec (overlay mount, config.json)", "dev.claudecage.runtime.RuntimeLog"},
            {"runc run (to its exit)", "dev.claudecage.runtime.RunOutcome"},
    };

    private Phases() {
    }

    static Map<String, Object> measure(Path cage, Path rootfs, Path scratch, int runs) throws Exception {
        Files.createDirectories(scratch);
        Map<String, List<Double>> phases = new LinkedHashMap<>();
        phases.put("launcher (bash, to the JVM)", new ArrayList<>());
        for (String[] marker : MARKERS) {
            phases.put(marker[0], new ArrayList<>());
        }
        phases.put("teardown + exit (runc delete, umount, JVM exit)", new ArrayList<>());
        List<Double> walls = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            Path log = scratch.resolve("phases-" + i + ".log");
            long startMillis = System.currentTimeMillis();
            long nanos = Trial.Commands.timed(List.of(cage.toString(), "run", "--rootfs", rootfs.toString(), "--network",
                    "none", "--", "true"), Map.of("CLAUDE_CAGE_JAVA_OPTS",
                    "-Xlog:class+load:file=" + log + ":timemillis,uptimenanos"));
            double endMillis = startMillis + nanos / 1e6;
            Map<String, Double> uptimes = new LinkedHashMap<>();
            double jvmStartMillis = Double.NaN;
            for (String line : Files.readAllLines(log)) {
                Matcher match = LINE.matcher(line);
                if (!match.find()) {
                    continue;
                }
                double uptime = Long.parseLong(match.group(2)) / 1e6;
                if (Double.isNaN(jvmStartMillis)) {
                    jvmStartMillis = Long.parseLong(match.group(1)) - uptime;
                }
                uptimes.putIfAbsent(match.group(3), uptime);
            }
            walls.add(nanos / 1e6);
            phases.get("launcher (bash, to the JVM)").add(jvmStartMillis - startMillis);
            double previous = 0;
            for (String[] marker : MARKERS) {
                Double at = uptimes.get(marker[1]);
                if (at != null) {
                    phases.get(marker[0]).add(at - previous);
                    previous = at;
                }
            }
            if (uptimes.containsKey(MARKERS[MARKERS.length - 1][1])) {
                phases.get("teardown + exit (runc delete, umount, JVM exit)").add(endMillis - (jvmStartMillis + previous));
            }
            Files.deleteIfExists(log);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("runs", runs);
        json.put("wall_median_ms", Report.round(Report.median(walls)));
        System.out.printf(Locale.ROOT, "  run --network none -- true, median of %d: %.1f ms%n", runs, Report.median(walls));
        Map<String, Object> medians = new LinkedHashMap<>();
        phases.forEach((name, values) -> {
            if (values.size() == runs) {
                double median = Report.median(values);
                medians.put(name, Report.round(median));
                System.out.printf(Locale.ROOT, "    %-50s %6.1f ms%n", name, median);
            } else {
                medians.put(name, "marker class not seen");
                System.out.printf(Locale.ROOT, "    %-50s (marker class not seen)%n", name);
            }
        });
        json.put("phases_median_ms", medians);
        return json;
    }
}
