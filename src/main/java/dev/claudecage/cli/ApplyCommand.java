package dev.claudecage.cli;

import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import dev.claudecage.workspace.WorkspaceClone;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;

@Command(name = "apply",
        description = {"Brings the commits of a session started with --clone into the original repository: "
                + "fast-forwards its current branch to the copy's HEAD, as the repository's owner. Refuses when the "
                + "original has uncommitted changes, is not on a branch, has commits of its own since, or when any "
                + "commit changes what the host would run or trust: a protected path (protected_paths), a folder "
                + "above or below one (names compared as case-insensitive file systems do), a symbolic link or a "
                + "submodule entry anywhere, a name with control characters or in .git. The refusal lists the paths "
                + "(escaped); make those changes yourself after review. Uncommitted changes in the copy stay there.",
                "Exit code: 0 when applied or nothing to apply; 1 when git refuses the copy's objects; 2 when refused."})
final class ApplyCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Override
    public Integer call() {
        Sessions sessions = context.sessions();
        SessionName name = session.name();
        WorkspaceClone clone = sessions.workspaceClone(name);
        WorkspaceClone.Applied applied = clone.apply(sessions.config(name).protectedPaths(), name.value());
        PrintWriter out = spec.commandLine().getOut();
        if (applied.commits() == 0) {
            out.println("nothing to apply: " + applied.branch() + " in " + clone.original() + " is at the copy's HEAD");
        } else {
            out.println("applied " + applied.commits() + " commit(s) to " + applied.branch() + " in " + clone.original()
                    + ": " + applied.from().substring(0, 12) + ".." + applied.to().substring(0, 12));
        }
        if (applied.uncommittedLeft()) {
            out.println("the copy has uncommitted changes, not applied (see: claude-cage diff " + name + ")");
        }
        out.flush();
        return 0;
    }
}
