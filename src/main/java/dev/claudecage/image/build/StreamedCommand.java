package dev.claudecage.image.build;

import dev.claudecage.DaemonThreads;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.process.ProcessRunner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * A long build command (a RUN, debootstrap) whose output goes, line by line, to the step's
 * progress as it comes, while the last lines are kept for the error message if it fails.
 */
final class StreamedCommand {

    static final int TAIL_LINES = 30;

    /** How it ended: the exit code and the last lines of stdout and stderr together. */
    record Outcome(int exitCode, List<String> tail) {
    }

    private final ProcessRunner runner;
    private final List<String> command;
    private final Process process;
    private final Deque<String> tail = new ArrayDeque<>();
    private final Thread stdout;
    private final Thread stderr;

    private StreamedCommand(ProcessRunner runner, List<String> command, BuildProgress.Step step) {
        this.runner = runner;
        this.command = List.copyOf(command);
        this.process = runner.startBackground(command);
        this.stdout = pump(process.getInputStream(), step);
        this.stderr = pump(process.getErrorStream(), step);
    }

    /** Starts {@code command}; its output goes to {@code step} from now on. */
    static StreamedCommand start(ProcessRunner runner, List<String> command, BuildProgress.Step step) {
        return new StreamedCommand(runner, command, step);
    }

    /** Starts {@code command} and waits for it. */
    static Outcome run(ProcessRunner runner, List<String> command, Duration timeout, BuildProgress.Step step) {
        return start(runner, command, step).await(timeout);
    }

    Process process() {
        return process;
    }

    Outcome await(Duration timeout) {
        int exitCode = runner.awaitExit(process, command, timeout);
        try {
            stdout.join(Duration.ofSeconds(10).toMillis());
            stderr.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (tail) {
            return new Outcome(exitCode, List.copyOf(tail));
        }
    }

    private Thread pump(InputStream stream, BuildProgress.Step step) {
        return DaemonThreads.start("claude-cage-build-output", () -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String read;
                while ((read = reader.readLine()) != null) {
                    // What a build step prints comes from the programs it downloads: shown escaped, never as
                    // control sequences. (readLine ends a line at a carriage return too.)
                    String line = UntrustedText.escape(read);
                    step.output(line);
                    synchronized (tail) {
                        tail.addLast(line);
                        while (tail.size() > TAIL_LINES) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                // The command is gone; its exit code tells how it ended.
            }
        });
    }
}
