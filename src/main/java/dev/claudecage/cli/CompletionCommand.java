package dev.claudecage.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

@Command(name = "completion", aliases = "generate-completion",
        description = {"Prints the completion script for a shell: bash (the default), zsh or fish. The package and "
                + "'make install' install all three; by hand, for example:",
                "  claude-cage completion fish > ~/.config/fish/completions/claude-cage.fish",
                "  claude-cage completion zsh > ~/.zfunc/_claude-cage   (a folder in your $fpath)",
                "  source <(claude-cage completion bash)"})
final class CompletionCommand extends BaseCommand {

    @Parameters(arity = "0..1", paramLabel = "SHELL", defaultValue = "bash", description = "bash, zsh or fish.")
    ShellCompletion.Shell shell;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        // The whole model: a call that names this subcommand got a model of it alone.
        out.print(ShellCompletion.script(shell, Main.commandLine(context)));
        out.flush();
        return 0;
    }
}
