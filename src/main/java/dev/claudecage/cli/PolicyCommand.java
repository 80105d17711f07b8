package dev.claudecage.cli;

import dev.claudecage.net.AllowlistSuggestions;
import dev.claudecage.net.AuditLog;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;

@Command(name = "policy", description = "Works with the egress policy: suggest.",
        subcommands = PolicyCommand.Suggest.class)
final class PolicyCommand extends CommandGroup {

    @Command(name = "suggest",
            description = {
                    "Learn mode: reads the denials of a session's audit log (or of a run's, with --run FILE) and "
                            + "prints, as YAML to paste into claude-cage.yaml, the allowed_hosts entries (with ports) "
                            + "that would have let them through, each with its count and first and last time.",
                    "It never changes a policy. IP addresses, names on your own network, names that resolve to "
                            + "private addresses and overly broad wildcards are never suggested: they are listed "
                            + "with why."})
    static final class Suggest extends BaseCommand {

        @ArgGroup(multiplicity = "1")
        AuditLogSource source;

        @Override
        public Integer call() {
            Path log = source.path(context);
            AuditLog.Contents contents = AuditLog.readLeniently(log);
            PrintWriter out = spec.commandLine().getOut();
            out.print(AllowlistSuggestions.from(contents.events()).yaml(source.described(context)));
            out.flush();
            if (contents.unreadable() > 0) {
                spec.commandLine().getErr().println("claude-cage: note: " + contents.unreadable() + " line(s) of "
                        + log + " are not audit events and were left out; the cage can write a log in a folder it "
                        + "writes, so read what is suggested before you use it");
            }
            return 0;
        }
    }
}
