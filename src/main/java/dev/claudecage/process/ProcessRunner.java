package dev.claudecage.process;

import dev.claudecage.CageException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The one place where claude-cage starts external programs. It logs the exact command line
 * (to stderr when {@code CLAUDE_CAGE_DEBUG} is set), enforces a timeout, and turns a failure
 * into an {@link ExternalCommandException} that says what ran, how it ended, and what it printed.
 * Commands are argument lists, never shell strings.
 */
public class ProcessRunner {

    /** How much of a failed command's stderr goes into the error message. */
    private static final int STDERR_TAIL_CHARS = 2000;

    /**
     * What starts a process: the JDK's {@link ProcessBuilder#start()}, or a test's fake that records
     * each command and answers as scripted, so that the exact command lines can be checked without
     * running them.
     */
    @FunctionalInterface
    public interface ProcessFactory {
        ProcessFactory JDK = ProcessBuilder::start;

        Process start(ProcessBuilder builder) throws IOException;
    }

    private final boolean debug;
    private final ProcessFactory processes;

    public ProcessRunner(boolean debug) {
        this(debug, ProcessFactory.JDK);
    }

    public ProcessRunner(boolean debug, ProcessFactory processes) {
        this.debug = debug;
        this.processes = processes;
    }

    public static ProcessRunner fromEnvironment() {
        String value = System.getenv("CLAUDE_CAGE_DEBUG");
        return new ProcessRunner(value != null && !value.isEmpty() && !value.equals("0"));
    }

    public boolean debug() {
        return debug;
    }

    /** Runs to completion, capturing output; a non-zero exit is an error. */
    public CommandResult run(List<String> command, Duration timeout) {
        CommandResult result = runAllowingFailure(command, timeout);
        if (!result.succeeded()) {
            throw failure(result);
        }
        return result;
    }

    /**
     * Runs a command that removes something (a namespace, a firewall table, a mount, a container):
     * that it was gone already is no failure ({@link CommandResult#succeededOrGone}).
     */
    public void remove(List<String> command, Duration timeout) {
        CommandResult result = runAllowingFailure(command, timeout);
        if (!result.succeededOrGone()) {
            throw failure(result);
        }
    }

    /** Runs to completion, capturing output; the caller decides what a non-zero exit means. */
    public CommandResult runAllowingFailure(List<String> command, Duration timeout) {
        return runWithInput(command, timeout, null);
    }

    /** As {@link #runAllowingFailure}, writing {@code input} to the command's stdin. */
    public CommandResult runWithInput(List<String> command, Duration timeout, byte[] input) {
        log(command);
        Process process = start(new ProcessBuilder(command).redirectInput(
                input == null ? ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()) : ProcessBuilder.Redirect.PIPE));
        CompletableFuture<String> stdout = drain(process.getInputStream());
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        if (input != null) {
            try (var stdin = process.getOutputStream()) {
                stdin.write(input);
            } catch (IOException e) {
                // The command closed its stdin early; its exit code and stderr tell why.
            }
        }
        int exitCode = awaitExit(process, command, timeout);
        return new CommandResult(command, exitCode, join(stdout), join(stderr));
    }

    /**
     * Starts a command that shares this process's stdin, stdout and stderr (the cage's own
     * terminal). The caller waits for it; {@link #awaitExit} enforces a timeout when there is one.
     */
    public Process startInteractive(List<String> command) {
        return startAttached(command, Stdio.all(ProcessBuilder.Redirect.INHERIT));
    }

    /** Starts a command with its stdin, stdout and stderr where {@code stdio} says: a terminal, a file, pipes. */
    public Process startAttached(List<String> command, Stdio stdio) {
        log(command);
        return start(new ProcessBuilder(command).redirectInput(stdio.input()).redirectOutput(stdio.output())
                .redirectError(stdio.error()));
    }

    /**
     * Starts a long-running helper (a log reader, a test server) whose stdout and stderr the
     * caller reads; the caller stops it with {@link Process#destroy()}.
     */
    public Process startBackground(List<String> command) {
        log(command);
        return start(new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())));
    }

    /**
     * Starts a helper that must not outlive this process: its stdin is a pipe that only this
     * process holds, so the helper sees end-of-file and ends when this process dies, even by
     * SIGKILL. Its stdout is discarded; the caller reads its stderr when it ends early.
     */
    public Process startTethered(List<String> command) {
        log(command);
        return start(new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD));
    }

    /** Waits for a started process; on timeout kills it and throws. */
    public int awaitExit(Process process, List<String> command, Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                throw new ExternalCommandException(
                        "'" + display(command) + "' did not finish within " + timeout.toSeconds() + "s and was killed",
                        "the host may be overloaded, or the program is stuck; run with CLAUDE_CAGE_DEBUG=1 to see each command",
                        command, -1, "", null);
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while waiting for '" + display(command) + "'");
        }
    }

    /**
     * Stops a helper this process started: SIGTERM, then SIGKILL when it has not ended within
     * {@code grace}. Returns once it has ended, or the second wait is over.
     */
    public static void stop(Process process, Duration grace) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    public ExternalCommandException failure(CommandResult result) {
        String stderr = result.stderr().strip();
        String tail = stderr.length() > STDERR_TAIL_CHARS
                ? "..." + stderr.substring(stderr.length() - STDERR_TAIL_CHARS) : stderr;
        String message = "'" + display(result.command()) + "' failed with exit code " + result.exitCode()
                + (tail.isEmpty() ? "" : ": " + tail);
        return new ExternalCommandException(message, null, result.command(), result.exitCode(), result.stderr(), null);
    }

    /** The command line as a user would type it, quoting what needs quoting. */
    public static String display(List<String> command) {
        return command.stream().map(ProcessRunner::quote).collect(Collectors.joining(" "));
    }

    private static String quote(String arg) {
        if (!arg.isEmpty() && arg.chars().allMatch(c -> Character.isLetterOrDigit(c) || "-_./=:,@%+".indexOf(c) >= 0)) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    private void log(List<String> command) {
        if (debug) {
            System.err.println("claude-cage: exec: " + display(command));
        }
    }

    private Process start(ProcessBuilder builder) {
        try {
            return processes.start(builder);
        } catch (IOException e) {
            List<String> command = builder.command();
            throw new ExternalCommandException(
                    "cannot run '" + command.get(0) + "': " + e.getMessage(),
                    "install it or put it on the PATH (scripts/install-deps.sh installs what claude-cage needs on Debian)",
                    command, -1, "", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream; ByteArrayOutputStream out = new ByteArrayOutputStream()) {
                stream.transferTo(out);
                return out.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static String join(CompletableFuture<String> output) {
        try {
            return output.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } catch (ExecutionException | TimeoutException e) {
            // A grandchild that inherited the pipe can hold it open; the exit code still stands.
            return "";
        }
    }
}
