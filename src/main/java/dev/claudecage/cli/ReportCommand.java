package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.Host;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.AuditChain;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditReportPage;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.AuditSummary;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

@Command(name = "report",
        description = {
                "Tells a session's audit log (or a run's, with --run FILE) for a person: its time span, the decisions "
                        + "of each source, the destinations reached (with bytes) and refused, and whether its chain "
                        + "holds. What the cage chose (host names, reasons) is shown escaped.",
                "Each line of an audit log carries the SHA-256 of the line before it. --check only verifies that "
                        + "chain: exit 0 when every line is chained to the one before it, 1 with the first line "
                        + "that is not (changed, removed or inserted; lines cut from the start).",
                "--html FILE also writes the report as one self-contained page (no script, nothing loaded from "
                        + "elsewhere): the chain's check, how the cage started and ended, decisions per minute, hosts "
                        + "reached and refused, credentials used, git refs pushed and fetched, files changed."})
final class ReportCommand extends BaseCommand {

    private static final int PAGE_MODE = 0644;

    @ArgGroup(multiplicity = "1")
    AuditLogSource source;

    @Option(names = "--check", description = "Only verify the chain of the log's lines; exit 1 when it is broken.")
    boolean check;

    @Option(names = "--last", paramLabel = "SHA256", description = "The SHA-256 that the last line must have: the "
            + "one run printed for a log in a folder the cage writes (the cage could rewrite a whole chain there).")
    String last;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write the report as one self-contained HTML "
            + "page to FILE (replaced when it exists; a link as its name is replaced, not followed).")
    Path html;

    @Override
    public Integer call() {
        if (check && html != null) {
            throw new UserInputException("report --check only verifies the chain and writes no page; drop --check "
                    + "to write " + html + " with --html");
        }
        Path log = source.path(context);
        AuditChain chain = last == null ? AuditChain.check(log) : AuditChain.check(log).endingWith(last);
        PrintWriter out = spec.commandLine().getOut();
        if (check) {
            out.println(chain.lines() + " lines, chain " + AuditSummary.chainText(chain));
        } else {
            List<AuditEvent> events = AuditLog.readLeniently(log).events();
            out.print(AuditSummary.text(events, chain, source.described(context)));
            if (html != null) {
                writePage(AuditReportPage.html(events, chain, source.described(context)));
                out.println("Report page: " + UntrustedText.excerptLine(html.toString()));
            }
        }
        out.flush();
        return chain.intact() ? 0 : 1;
    }

    /** Writes the page in one rename beneath its folder: a link put where the page goes is replaced, never followed. */
    private void writePage(String page) {
        try {
            UntrustedDirectory.Placement placement = UntrustedDirectory.place(html, List.of());
            try (UntrustedDirectory folder = UntrustedDirectory.open(placement.folder())) {
                folder.replaceFile(placement.relative(), page.getBytes(StandardCharsets.UTF_8), PAGE_MODE,
                        Host.effectiveUid(), Host.effectiveGid());
            }
        } catch (IOException e) {
            throw new CageException("cannot write the report page " + html + ": " + e.getMessage(),
                    "name a file in an existing folder you can write");
        }
    }
}
