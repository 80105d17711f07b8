package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.config.Mode;
import dev.claudecage.host.Host;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.OneShotRun;
import dev.claudecage.runtime.RunOutcome;
import dev.claudecage.terminal.ForegroundStdio;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

@Command(name = "run",
        description = {
                "Runs one command in a fresh hardened cage, in the foreground, and removes the cage when it ends "
                        + "(like docker run --rm). Afterwards it warns about git repositories the cage left in a "
                        + "writable mount whose configuration or hooks run programs.",
                RawTerminalOption.FOREGROUND_HELP,
                "Exit code: the command's own; 125 when claude-cage fails, 126 when the command cannot be run, "
                        + "127 when it is not found."},
        sortOptions = false)
final class RunCommand extends BaseCommand implements ErrorHandler.FailureCode {

    @Mixin
    CageOptions options;

    @Mixin
    ApiKeys apiKey;

    @Option(names = "--audit-log", paramLabel = "FILE",
            description = "Keep the cage's audit log (one JSON line per network decision) in FILE.")
    Path auditLog;

    @Mixin
    RawTerminalOption rawTerminal;

    @Parameters(arity = "1..*", paramLabel = "CMD", description = "The command and its arguments, after --.")
    List<String> command;

    @Override
    public Integer call() {
        EffectiveConfig config = context.configLoader().load(options.asFlags());
        if (config.config().mode() == Mode.DESKTOP) {
            // A desktop is watched in a browser while it runs; a run lives on this terminal and publishes nothing.
            throw new UserInputException("run starts one command on this terminal; a desktop is a session "
                    + "(mode: desktop, from " + config.origin(ConfigKey.MODE) + ")",
                    "claude-cage start --mode desktop, or run --mode cli (--image desktop runs a command on the desktop image)");
        }
        ProcessRunner runner = context.runner();
        Supplier<char[]> key = apiKey.key();
        ApiKeys.warnWithoutKey(key, config.config(), spec.commandLine().getErr());
        boolean terminal = Host.interactiveTerminal();
        RunOutcome outcome = new OneShotRun(context.statePaths(), runner).run(context.plan(config.config()), command,
                terminal, ForegroundStdio.forThisProcess(terminal, rawTerminal.raw), new OneShotRun.Options(key, auditLog));
        WorkspaceWarnings.print(config.config(), runner, spec.commandLine().getErr());
        return outcome.exitCode();
    }

    @Override
    public int failureExitCode() {
        return RunOutcome.LAUNCHER_FAILED;
    }
}
