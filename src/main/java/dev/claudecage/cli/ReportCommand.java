package dev.claudecage.cli;

import dev.claudecage.net.AuditChain;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.AuditSummary;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;

@Command(name = "report",
        description = {
                "Tells a session's audit log (or a run's, with --run FILE) for a person: its time span, the decisions "
                        + "of each source, the destinations reached (with bytes) and refused, and whether its chain "
                        + "holds. What the cage chose (host names, reasons) is shown escaped.",
                "Each line of an audit log carries the SHA-256 of the line before it. --check only verifies that "
                        + "chain: exit 0 when every line is chained to the one before it, 1 with the first line "
                        + "that is not (changed, removed or inserted; lines cut from the start)."})
final class ReportCommand extends BaseCommand {

    @ArgGroup(multiplicity = "1")
    AuditLogSource source;

    @Option(names = "--check", description = "Only verify the chain of the log's lines; exit 1 when it is broken.")
    boolean check;

    @Option(names = "--last", paramLabel = "SHA256", description = "The SHA-256 that the last line must have: the "
            + "one run printed for a log in a folder the cage writes (the cage could rewrite a whole chain there).")
    String last;

    @Override
    public Integer call() {
        Path log = source.path(context);
        AuditChain chain = last == null ? AuditChain.check(log) : AuditChain.check(log).endingWith(last);
        PrintWriter out = spec.commandLine().getOut();
        if (check) {
            out.println(chain.lines() + " lines, chain " + AuditSummary.chainText(chain));
        } else {
            out.print(AuditSummary.text(AuditLog.readLeniently(log).events(), chain, source.described(context)));
        }
        out.flush();
        return chain.intact() ? 0 : 1;
    }
}
