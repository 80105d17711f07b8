package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.workspace.NestedRepositories;

import java.io.PrintWriter;

/** What run and stop say, once the cage is gone, about git repositories it left that would run programs. */
final class WorkspaceWarnings {

    private WorkspaceWarnings() {
    }

    static void print(CageConfig config, ProcessRunner runner, PrintWriter err) {
        for (NestedRepositories.Finding finding : NestedRepositories.inWritableMounts(config, runner)) {
            err.println("claude-cage: warning: " + finding.warning());
        }
        err.flush();
    }
}
