package dev.claudecage.cli;

import dev.claudecage.session.SessionName;
import dev.claudecage.session.SessionRecord;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

/** Which audit log a command reads: a session's, by its name, or a run's file (run --audit-log FILE). */
final class AuditLogSource {

    @Parameters(paramLabel = "NAME", description = "The session whose audit log to read.")
    String name;

    @Option(names = {"--run", "--from"}, paramLabel = "FILE",
            description = "An audit log written by run --audit-log FILE (or a copy of one).")
    Path file;

    Path path(Context context) {
        if (file != null) {
            return file;
        }
        SessionRecord record = context.sessions().store().require(SessionName.of(name));
        return context.sessions().store().paths(record).auditLog();
    }

    /** The log, for the first line of what a command prints. */
    String described(Context context) {
        return file != null ? file.toString() : "the audit log of session " + name + " (" + path(context) + ")";
    }
}
