package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.Durations;
import dev.claudecage.session.SessionLogs;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "logs",
        description = "Prints what a session's cage wrote to its terminal (kept across detach and stop, rotated at "
                + "8 MiB), or with --audit its audit log: one JSON line per network decision.")
final class LogsCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "The session.")
    String name;

    @Option(names = {"--follow", "-f"}, description = "Keep printing new output until the session ends.")
    boolean follow;

    @Option(names = "--since", paramLabel = "DURATION",
            description = "Only what was written in the last DURATION, e.g. 30s, 10m, 1h30m (to the second).")
    String since;

    @Option(names = "--audit", description = "Print the audit log instead of the terminal output.")
    boolean audit;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Duration window = since == null ? null : Durations.parse(since, "--since");
        SessionName session = SessionName.of(name);
        SessionLogs logs = new SessionLogs(Sessions.current(ProcessRunner.fromEnvironment()), Clock.systemUTC());
        OutputStream out = new FileOutputStream(FileDescriptor.out);
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
        return 0;
    }
}
