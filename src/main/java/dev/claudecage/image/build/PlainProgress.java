package dev.claudecage.image.build;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/** Progress for logs and CI: each line once, nothing redrawn; output lines indented under their step. */
final class PlainProgress implements BuildProgress {

    private final PrintStream out;

    PlainProgress(PrintStream out) {
        this.out = out;
    }

    @Override
    public Step start(int number, int total, String description) {
        String prefix = "[" + number + "/" + total + "]";
        out.println(prefix + " " + description);
        long started = System.nanoTime();
        return new Step() {
            @Override
            public void output(String line) {
                synchronized (out) {
                    out.println("      " + line);
                }
            }

            @Override
            public void cached() {
                out.println(prefix + " from the cache");
            }

            @Override
            public void done() {
                out.println(prefix + " done in " + BuildProgress.format(Duration.ofNanos(System.nanoTime() - started)));
            }

            @Override
            public void failed(List<String> outputTail) {
                out.println(prefix + " failed after " + BuildProgress.format(Duration.ofNanos(System.nanoTime() - started)));
            }
        };
    }

    @Override
    public void note(String message) {
        out.println(message);
    }
}
