package dev.claudecage.image.build;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * What a build tells its user: one line per step, "[n/m] INSTRUCTION", and how it ended (from
 * the cache, done, or failed with the last lines of its output). On a terminal the running
 * step shows its elapsed time and the tail of its output, redrawn in place; elsewhere (logs,
 * CI) every line is printed once, output included.
 */
public interface BuildProgress {

    Step start(int number, int total, String description);

    /** A line outside the steps: a warning, a wait for the lock. */
    void note(String message);

    /** One step in progress; exactly one of cached, done or failed ends it. */
    interface Step {
        /** A line the step's command printed. */
        void output(String line);

        void cached();

        void done();

        /** Shows the last lines of the command's output; the build's error says the rest. */
        void failed(List<String> outputTail);
    }

    static BuildProgress forStream(PrintStream out, boolean terminal) {
        return terminal ? new TerminalProgress(out) : new PlainProgress(out);
    }

    /** "1m 5s", "3.2s": how long a step took. */
    static String format(Duration elapsed) {
        long seconds = elapsed.toSeconds();
        if (seconds >= 60) {
            return seconds / 60 + "m " + seconds % 60 + "s";
        }
        return String.format(java.util.Locale.ROOT, "%.1fs", elapsed.toMillis() / 1000.0);
    }

    /** "512 B", "12.3 MB": decimal units, as {@code docker images} shows them. */
    static String size(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
