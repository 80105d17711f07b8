package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.host.Host;
import dev.claudecage.config.Durations;
import dev.claudecage.session.SessionLogs;
import dev.claudecage.session.SessionName;
import dev.claudecage.terminal.TerminalFilter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

@Command(name = "logs",
        description = {
                "Prints what a session's cage wrote to its terminal (kept across detach and stop, rotated at "
                        + "8 MiB), or with --audit its audit log: one JSON line per network decision.",
                "To a terminal or a pipe, the control sequences that act on a terminal (clipboard, title, report "
                        + "requests, hyperlinks, ...) are dropped and a line on stderr says how many; colours and "
                        + "cursor movement stay. To a file, the bytes are written as the cage wrote them: "
                        + "'logs NAME > session.log' keeps the evidence. --raw-terminal prints them as written anywhere."})
final class LogsCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Option(names = {"--follow", "-f"}, description = "Keep printing new output until the session ends.")
    boolean follow;

    @Option(names = "--since", paramLabel = "DURATION",
            description = "Only what was written in the last DURATION, e.g. 30s, 10m, 1h30m (to the second).")
    String since;

    @Option(names = "--audit", description = "Print the audit log instead of the terminal output.")
    boolean audit;

    @Mixin
    RawTerminalOption rawTerminal;

    @Override
    public Integer call() throws IOException {
        Duration window = since == null ? null : Durations.parse(since, "--since");
        SessionName name = session.name();
        SessionLogs logs = new SessionLogs(context.sessions(), Clock.systemUTC());
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        if (audit || rawTerminal.raw || Host.isRegularFile(1)) {
            print(logs, name, window, stdout);
            return 0;
        }
        TerminalFilter filter = new TerminalFilter(stdout);
        // Also when Ctrl-C ends 'logs -f': the terminal gets its modes back and the user the count.
        AtomicBoolean ended = new AtomicBoolean();
        Runnable end = () -> {
            if (ended.compareAndSet(false, true)) {
                endFilteredOutput(filter);
            }
        };
        Thread onSignal = new Thread(end, "logs-end");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            print(logs, name, window, filter);
        } finally {
            end.run();
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // Ended above already.
            }
        }
        return 0;
    }

    private void print(SessionLogs logs, SessionName session, Duration window, OutputStream out) throws IOException {
        try {
            boolean found = audit ? logs.printAudit(session, out, window, follow)
                    : logs.printOutput(session, out, window, follow);
            if (!found) {
                spec.commandLine().getErr().println(audit ? "no audit log yet for session " + session
                        : "no output yet for session " + session);
                spec.commandLine().getErr().flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted");
        } finally {
            out.flush();
        }
    }

    private static void endFilteredOutput(TerminalFilter filter) {
        try {
            if (Host.isTerminal(1)) {
                filter.restore();
            }
            filter.flush();
        } catch (IOException e) {
            // The terminal or the pipe has gone.
        }
        filter.dropped().message().ifPresent(message -> {
            System.err.println(message);
            System.err.flush();
        });
    }
}
