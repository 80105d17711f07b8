package dev.claudecage.image.build;

import dev.claudecage.DaemonThreads;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Progress on a terminal: the running step's line with its elapsed time, and below it the last
 * few lines of its output, redrawn in place a few times a second. When the step ends, the block
 * collapses into one line.
 */
final class TerminalProgress implements BuildProgress {

    private static final int TAIL_LINES = 6;
    private static final String CLEAR_LINE = "\033[2K";
    private static final String UP = "\033[1A";

    private final PrintStream out;
    private final int width;

    TerminalProgress(PrintStream out) {
        this.out = out;
        this.width = terminalWidth();
    }

    /** COLUMNS when the shell exported it; else a width that fits any terminal, so lines never wrap. */
    private static int terminalWidth() {
        try {
            return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80")) - 1);
        } catch (NumberFormatException e) {
            return 79;
        }
    }

    @Override
    public Step start(int number, int total, String description) {
        return new LiveStep("[" + String.format("%" + Integer.toString(total).length() + "d", number) + "/" + total + "] "
                + description);
    }

    @Override
    public synchronized void note(String message) {
        out.println(message);
    }

    private final class LiveStep implements Step {
        private final String title;
        private final long started = System.nanoTime();
        private final Deque<String> tail = new ArrayDeque<>();
        private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("claude-cage-progress"));
        private int drawnLines;
        private boolean finished;

        LiveStep(String title) {
            this.title = title;
            redraw();
            ticker.scheduleAtFixedRate(this::redraw, 200, 200, TimeUnit.MILLISECONDS);
        }

        @Override
        public void output(String line) {
            synchronized (TerminalProgress.this) {
                tail.addLast(line.replace("\r", "").replace("\t", "    "));
                while (tail.size() > TAIL_LINES) {
                    tail.removeFirst();
                }
            }
        }

        private void redraw() {
            synchronized (TerminalProgress.this) {
                if (finished) {
                    return;
                }
                StringBuilder block = new StringBuilder(erase());
                block.append(fit(title + "  " + BuildProgress.format(elapsed()))).append('\n');
                for (String line : tail) {
                    block.append(fit("   | " + line)).append('\n');
                }
                drawnLines = 1 + tail.size();
                out.print(block);
                out.flush();
            }
        }

        private String erase() {
            return (UP + CLEAR_LINE).repeat(drawnLines) + "\r";
        }

        private void finish(String outcome, List<String> shownTail) {
            ticker.shutdownNow();
            synchronized (TerminalProgress.this) {
                finished = true;
                StringBuilder block = new StringBuilder(erase());
                block.append(fit(title)).append("  ").append(outcome).append('\n');
                for (String line : shownTail) {
                    block.append("   | ").append(line).append('\n');
                }
                out.print(block);
                out.flush();
            }
        }

        private Duration elapsed() {
            return Duration.ofNanos(System.nanoTime() - started);
        }

        @Override
        public void cached() {
            finish("from the cache", List.of());
        }

        @Override
        public void done() {
            finish("done in " + BuildProgress.format(elapsed()), List.of());
        }

        @Override
        public void failed(List<String> outputTail) {
            finish("failed after " + BuildProgress.format(elapsed()), outputTail);
        }

        private String fit(String line) {
            return line.length() <= width ? line : line.substring(0, width - 3) + "...";
        }
    }
}
