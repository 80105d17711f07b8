package dev.claudecage.cli;

import dev.claudecage.session.Janitor;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

@Command(name = "gc",
        description = {
                "Finds and removes what crashes left: runtime state under claude-cage's own root, network namespaces "
                        + "(claude-cage-*), veth links (cgh*, cgc*), nft tables (claude_cage*), mounts under "
                        + "/run/claude-cage, cgroups under /sys/fs/cgroup/*/claude-cage, stale pid files, sockets and "
                        + "folders; and corrects the records of crashed sessions. What a live session or run owns is "
                        + "never touched.",
                "Exit code: 0 when everything found was removed, 1 when something could not be."})
final class GcCommand extends BaseCommand {

    @Override
    public Integer call() {
        Janitor.Report report = context.sessions().gc();
        PrintWriter out = spec.commandLine().getOut();
        report.removed().forEach(item -> out.println("removed " + item));
        report.skipped().forEach(item -> out.println("kept " + item));
        if (report.removed().isEmpty() && report.skipped().isEmpty() && report.failures().isEmpty()) {
            out.println("nothing to clean");
        }
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        report.failures().forEach(item -> err.println("claude-cage: could not remove " + item));
        err.flush();
        return report.clean() ? 0 : 1;
    }
}
