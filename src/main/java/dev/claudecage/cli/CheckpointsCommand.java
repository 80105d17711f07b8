package dev.claudecage.cli;

import dev.claudecage.host.UntrustedText;
import dev.claudecage.session.SessionName;
import dev.claudecage.workspace.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;
import java.util.List;

@Command(name = "checkpoints",
        description = {"Lists the checkpoints of a session started with --clone, oldest first: id, time (UTC), paths "
                + "changed since the one before, message.",
                "Exit code: 0; 2 when the session is unknown or not a --clone session."})
final class CheckpointsCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Override
    public Integer call() {
        SessionName name = session.name();
        List<Checkpoints.Checkpoint> checkpoints = context.sessions().workspaceClone(name).checkpoints()
                .list();
        PrintWriter out = spec.commandLine().getOut();
        if (checkpoints.isEmpty()) {
            out.println("no checkpoints of " + name + " yet (claude-cage checkpoint " + name + " takes one)");
        } else {
            out.printf("%-4s %-20s %7s  %s%n", "ID", "TIME", "CHANGED", "MESSAGE");
            checkpoints.forEach(checkpoint -> out.printf("%-4d %-20s %7d  %s%n", checkpoint.id(), checkpoint.time(),
                    checkpoint.filesChanged(), UntrustedText.excerptLine(checkpoint.message())));
        }
        out.flush();
        return 0;
    }
}
