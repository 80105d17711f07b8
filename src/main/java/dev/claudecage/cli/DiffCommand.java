package dev.claudecage.cli;

import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import dev.claudecage.workspace.WorkspaceClone;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "diff",
        description = {"Shows what the agent did in a session started with --clone: its commits beyond the original "
                + "repository's current commit, as a patch, then the uncommitted changes in its copy.",
                "Exit code: 0; 1 when the copy cannot be read safely (its HEAD is not a plain ref); 2 when the "
                        + "session is unknown or not a --clone session."})
final class DiffCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "The session.")
    String name;

    @Option(names = "--stat", description = "Only the changed files and line counts, not the patch.")
    boolean stat;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        WorkspaceClone clone = Sessions.current(ProcessRunner.fromEnvironment()).workspaceClone(SessionName.of(name));
        spec.commandLine().getOut().print(clone.diff(stat));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
