package dev.claudecage.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code claude-cage} command: a thin picocli layer over the core packages. */
@Command(name = "claude-cage",
        mixinStandardHelpOptions = true,
        // Every subcommand gets --help and --version without declaring them.
        scope = CommandLine.ScopeType.INHERIT,
        versionProvider = VersionCommand.Provider.class,
        description = "Runs Claude Code and other commands in hardened OCI sandboxes, without Docker.",
        subcommands = {
                RunCommand.class,
                VerifyCommand.class,
                ConfigCommand.class,
                BuildCommand.class,
                ImagesCommand.class,
                ImageCommand.class,
                VersionCommand.class,
                CommandLine.HelpCommand.class,
                AutoComplete.GenerateCompletion.class
        })
public final class Main {

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(false);
        return commandLine
                .setExecutionExceptionHandler(new ErrorHandler())
                .setParameterExceptionHandler(ErrorHandler::onBadArguments)
                .execute(args);
    }
}
