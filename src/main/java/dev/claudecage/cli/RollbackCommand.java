package dev.claudecage.cli;

import dev.claudecage.session.SessionName;
import dev.claudecage.workspace.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

@Command(name = "rollback",
        description = {"Restores the work tree of a session started with --clone to a checkpoint, while the cage may "
                + "run (it sees the files at once): files written back, files and folders made since removed, links "
                + "made as links; nothing in the copy is followed. The copy's .git is left as it is (restore its "
                + "branch inside the cage with git if you want that too), and so is what checkpoints leave out. The "
                + "present state is checkpointed first when it changed, so a rollback can be rolled back.",
                "Exit code: 0; 1 when the copy cannot be read or written; 2 when the session or checkpoint is unknown."})
final class RollbackCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Parameters(index = "1", paramLabel = "CHECKPOINT", description = "The checkpoint's id (claude-cage checkpoints NAME).")
    int checkpoint;

    @Override
    public Integer call() {
        SessionName name = session.name();
        Checkpoints.RolledBack done = context.sessions().workspaceClone(name).checkpoints()
                .rollback(checkpoint);
        PrintWriter out = spec.commandLine().getOut();
        done.saved().ifPresent(saved -> out.println("saved the state before as checkpoint " + saved.id()));
        out.println("rolled " + name + " back to checkpoint " + done.to().id() + " (" + done.to().time() + "): "
                + done.written() + " path(s) written, " + done.removed() + " removed");
        CheckpointCommand.printLeftOut(out, done.leftOut());
        out.flush();
        return 0;
    }
}
