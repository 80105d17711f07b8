package dev.claudecage.cli;

import dev.claudecage.config.MountSpec;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.workspace.NestedRepositories;

import java.io.PrintWriter;
import java.util.List;

/** What run and stop say, once the cage is gone, about git repositories it left that would run programs. */
final class WorkspaceWarnings {

    private WorkspaceWarnings() {
    }

    static void print(List<MountSpec> mounts, ProcessRunner runner, PrintWriter err) {
        for (NestedRepositories.Finding finding : NestedRepositories.inWritableMounts(mounts, runner)) {
            err.println("claude-cage: warning: " + finding.warning());
        }
        err.flush();
    }
}
