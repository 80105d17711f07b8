package dev.claudecage.cli;

import dev.claudecage.json.Json;
import dev.claudecage.config.Durations;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.session.SessionSummary;
import dev.claudecage.session.SessionView;
import dev.claudecage.session.Sessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

@Command(name = "list", aliases = "ps",
        description = "Lists the sessions with their true state, checked against the host: running, stopped, "
                + "exited(N), failed, crashed.")
final class ListCommand extends BaseCommand {

    @Option(names = "--json", description = "Print as JSON.")
    boolean json;

    @Option(names = {"--quiet", "-q"}, description = "Print only the names.")
    boolean quiet;

    @Override
    public Integer call() {
        return print(context, json, quiet, spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The list, as this command prints it: also for a plain {@code list} answered without picocli ({@link PlainViews}). */
    static int print(Context context, boolean json, boolean quiet, PrintWriter out, PrintWriter err) {
        Sessions sessions = context.sessions();
        List<String> problems = new ArrayList<>();
        List<SessionView> views = sessions.list(problems);
        // A problem quotes what it could not read of a record: shown escaped, on its own line.
        problems.forEach(problem -> err.println("claude-cage: " + UntrustedText.escapeLine(problem)));
        err.flush();
        if (json) {
            out.print(Json.write(views.stream().map(sessions::report).toList()));
        } else if (quiet) {
            views.forEach(view -> out.println(UntrustedText.escapeLine(view.record().name())));
        } else {
            // The table needs no full report: each would check its policy's hash and read its cgroups.
            out.print(table(views.stream().map(sessions::summary).toList()));
        }
        out.flush();
        return 0;
    }

    static String table(List<SessionSummary> summaries) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("NAME", "STATE", "UPTIME", "MODE", "NETWORK", "COMMAND"));
        for (SessionSummary summary : summaries) {
            // The record is the host's, but it is read from a file: each cell is shown escaped, on one line.
            rows.add(List.of(UntrustedText.escapeLine(summary.name()), UntrustedText.escapeLine(summary.state()),
                    summary.uptimeSeconds() == null ? "-" : Durations.format(Duration.ofSeconds(summary.uptimeSeconds())),
                    UntrustedText.escapeLine(String.valueOf(summary.mode())),
                    UntrustedText.escapeLine(String.valueOf(summary.network())),
                    UntrustedText.escapeLine(String.join(" ", summary.command()))));
        }
        int[] widths = new int[5];
        for (List<String> row : rows) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        StringBuilder text = new StringBuilder();
        for (List<String> row : rows) {
            for (int i = 0; i < widths.length; i++) {
                padded(text, row.get(i), widths[i]).append("  ");
            }
            text.append(row.get(5)).append(System.lineSeparator());
        }
        return text.toString();
    }

    /**
     * {@code cell} and the spaces that make it {@code width} wide: what {@code %-Ns} makes, without a
     * Formatter for each cell.
     */
    static StringBuilder padded(StringBuilder text, String cell, int width) {
        text.append(cell);
        for (int pad = width - cell.length(); pad > 0; pad--) {
            text.append(' ');
        }
        return text;
    }
}
