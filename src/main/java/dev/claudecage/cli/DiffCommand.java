package dev.claudecage.cli;

import dev.claudecage.host.UntrustedText;
import dev.claudecage.workspace.WorkspaceClone;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

@Command(name = "diff",
        description = {"Shows what the agent did in a session started with --clone: its commits beyond the original "
                + "repository's current commit, as a patch, then the uncommitted changes in its copy.",
                "Everything here was written by the agent, so control characters and bidi controls in it are shown "
                        + "escaped (\\r, \\x1b, \\u202e): a terminal would obey them, and a line could rewrite itself "
                        + "or set the clipboard. A note on stderr says when something was escaped; --unescaped "
                        + "prints the text as git wrote it, for a file.",
                "Exit code: 0; 1 when the copy cannot be read safely (its HEAD is not a plain ref, or git refuses its "
                        + "objects); 2 when the session is unknown or not a --clone session."})
final class DiffCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Option(names = "--stat", description = "Only the changed files and line counts, not the patch.")
    boolean stat;

    @Option(names = "--since", paramLabel = "CHECKPOINT", description = "Instead: what changed in the copy's work "
            + "tree since that checkpoint (claude-cage checkpoints NAME), committed or not.")
    Integer since;

    @Option(names = "--unescaped", description = "Print control characters as they are, to save the patch to a file "
            + "(claude-cage diff NAME --unescaped > work.patch). Never to a terminal: it would obey them.")
    boolean unescaped;

    @Override
    public Integer call() {
        WorkspaceClone clone = context.sessions().workspaceClone(session.name());
        String diff = since == null ? clone.diff(stat) : clone.checkpoints().diffSince(since, stat);
        String shown = unescaped ? diff : UntrustedText.escape(diff);
        PrintWriter out = spec.commandLine().getOut();
        out.print(shown);
        out.flush();
        if (!shown.equals(diff)) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("claude-cage: the diff holds control characters or bidi controls, shown escaped (\\r, \\x1b, "
                    + "\\u202e); --unescaped prints them as they are, for a file");
            err.flush();
        }
        return 0;
    }
}
