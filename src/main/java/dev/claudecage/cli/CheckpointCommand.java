package dev.claudecage.cli;

import dev.claudecage.host.UntrustedText;
import dev.claudecage.session.SessionName;
import dev.claudecage.workspace.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;

@Command(name = "checkpoint",
        description = {"Records the work tree of a session started with --clone as a checkpoint, on the host, beside "
                + "the copy (in a repository no cage mounts): every file and link, tracked or not, staged or not, "
                + "ignored ones too; the copy's .git (its history, index, refs) is neither part of it nor touched. "
                + "Links are recorded as links, never followed. Left out, and named: anything called .git, names "
                + "that are not UTF-8, files over 64 MiB, FIFOs, sockets and devices. The session's supervisor also "
                + "takes one every checkpoint_interval when the copy changed.",
                "Exit code: 0; 1 when the copy cannot be read; 2 when the session is unknown or not a --clone session."})
final class CheckpointCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Option(names = {"-m", "--message"}, paramLabel = "MSG", description = "What the checkpoint is (one line).")
    String message = "by hand";

    @Override
    public Integer call() {
        SessionName name = session.name();
        Checkpoints.Taken taken = context.sessions().workspaceClone(name).checkpoints()
                .take(message, false);
        PrintWriter out = spec.commandLine().getOut();
        Checkpoints.Checkpoint checkpoint = taken.checkpoint().orElseThrow();
        out.println("checkpoint " + checkpoint.id() + " of " + name + ": " + checkpoint.filesChanged()
                + " path(s) changed since the last one");
        printLeftOut(out, taken.leftOut());
        out.flush();
        return 0;
    }

    /** The paths a checkpoint left out, escaped (the cage named them), at most a screenful. */
    static void printLeftOut(PrintWriter out, List<String> leftOut) {
        int shown = Math.min(leftOut.size(), 20);
        if (shown > 0) {
            out.println("left out (not recorded, and left alone by rollback):");
            leftOut.stream().limit(shown).forEach(line -> out.println("  " + UntrustedText.excerptLine(line)));
            if (leftOut.size() > shown) {
                out.println("  ... and " + (leftOut.size() - shown) + " more");
            }
        }
    }
}
