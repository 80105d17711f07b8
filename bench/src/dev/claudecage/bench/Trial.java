package dev.claudecage.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One thing to time, and the interleaved runs of several. Every round runs each trial once, in
 * the same order, so that noise from other work on the machine falls on all of them alike; the
 * report is the median of the rounds and the ratios of medians.
 */
interface Trial {

    String name();

    /** Runs once; the nanoseconds it took. Throws when it failed: a failed run is no sample. */
    long runOnce() throws Exception;

    /** A command run to completion, its output thrown away, its stderr kept for the error message. */
    static Trial command(String name, List<String> argv) {
        return command(name, argv, Map.of());
    }

    static Trial command(String name, List<String> argv, Map<String, String> env) {
        return new Trial() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public long runOnce() throws Exception {
                return Commands.timed(argv, env);
            }
        };
    }

    /**
     * Runs every trial once per round, {@code warmUp} rounds untimed first. A trial that fails is
     * dropped from later rounds, its error kept: one broken part must not stop the rest.
     */
    static Map<String, Samples> interleave(int warmUp, int rounds, List<Trial> trials, long deadlineNanos) {
        Map<String, Samples> results = new LinkedHashMap<>();
        for (Trial trial : trials) {
            results.put(trial.name(), new Samples());
        }
        for (int round = -warmUp; round < rounds; round++) {
            if (System.nanoTime() > deadlineNanos && round >= Math.min(rounds, 3)) {
                System.out.println("  (time budget reached after " + round + " rounds)");
                break;
            }
            for (Trial trial : trials) {
                Samples samples = results.get(trial.name());
                if (samples.error != null) {
                    continue;
                }
                try {
                    long nanos = trial.runOnce();
                    if (round >= 0) {
                        samples.nanos.add(nanos);
                    }
                } catch (Exception e) {
                    samples.error = e.getMessage() == null ? e.toString() : e.getMessage();
                    System.out.println("  " + trial.name() + ": failed: " + firstLine(samples.error));
                }
            }
        }
        return results;
    }

    static String firstLine(String text) {
        String line = text.strip().lines().findFirst().orElse("");
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    /** The timed runs of one trial. */
    final class Samples {
        final List<Long> nanos = new ArrayList<>();
        String error;

        boolean ok() {
            return error == null && !nanos.isEmpty();
        }

        double medianMillis() {
            List<Long> sorted = new ArrayList<>(nanos);
            sorted.sort(null);
            int n = sorted.size();
            double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
            return median / 1e6;
        }

        double minMillis() {
            return nanos.stream().mapToLong(Long::longValue).min().orElse(0) / 1e6;
        }

        double maxMillis() {
            return nanos.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6;
        }

        Map<String, Object> toJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            if (error != null) {
                json.put("error", error);
            }
            if (!nanos.isEmpty()) {
                json.put("median_ms", Report.round(medianMillis()));
                json.put("min_ms", Report.round(minMillis()));
                json.put("max_ms", Report.round(maxMillis()));
                json.put("samples_ms", nanos.stream().map(n -> Report.round(n / 1e6)).toList());
            }
            return json;
        }
    }

    /** Running external commands. */
    final class Commands {
        private Commands() {
        }

        /** Runs to completion with stdout discarded; the nanoseconds from start to exit. */
        static long timed(List<String> argv, Map<String, String> env) throws IOException, InterruptedException {
            Path err = Files.createTempFile("ccbench", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(argv)
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(err.toFile());
                builder.environment().putAll(env);
                long start = System.nanoTime();
                Process process = builder.start();
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IOException(String.join(" ", argv) + ": did not finish within 120 s");
                }
                long elapsed = System.nanoTime() - start;
                if (process.exitValue() != 0) {
                    throw new IOException(String.join(" ", argv) + ": exit code " + process.exitValue() + ": "
                            + Files.readString(err, StandardCharsets.UTF_8).strip());
                }
                return elapsed;
            } finally {
                Files.deleteIfExists(err);
            }
        }

        /** Runs to completion; its stdout, or an exception with its stderr. */
        static String output(List<String> argv, Map<String, String> env, long timeoutSeconds)
                throws IOException, InterruptedException {
            Path out = Files.createTempFile("ccbench", ".out");
            Path err = Files.createTempFile("ccbench", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(argv)
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile());
                builder.environment().putAll(env);
                Process process = builder.start();
                if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IOException(String.join(" ", argv) + ": did not finish within " + timeoutSeconds + " s");
                }
                if (process.exitValue() != 0) {
                    throw new IOException(String.join(" ", argv) + ": exit code " + process.exitValue() + ": "
                            + Files.readString(err, StandardCharsets.UTF_8).strip());
                }
                return Files.readString(out, StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        }

        static String output(List<String> argv) throws IOException, InterruptedException {
            return output(argv, Map.of(), 60);
        }

        /** The command's output, or null when it cannot run. */
        static String outputOrNull(List<String> argv) {
            try {
                return output(argv).strip();
            } catch (IOException | InterruptedException e) {
                return null;
            }
        }
    }
}
