package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.claudecode.UserClaudeSetup;
import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.config.Mode;
import dev.claudecage.host.Host;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.OneShotRun;
import dev.claudecage.runtime.RunOutcome;
import dev.claudecage.session.Sessions;
import dev.claudecage.terminal.ForegroundStdio;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

@Command(name = "run",
        description = {
                "Runs one command in a fresh hardened cage, in the foreground, and removes the cage when it ends "
                        + "(like docker run --rm). Afterwards it warns about git repositories the cage left in a "
                        + "writable mount whose configuration or hooks run programs.",
                RawTerminalOption.FOREGROUND_HELP,
                "With --detach, the command runs in an ephemeral session instead (like docker run -d): its name (--name, "
                        + "else a generated one) is printed, 'claude-cage attach', 'logs', 'exec' and 'rm' take it, and it is removed when "
                        + "it stops.",
                "Exit code: the command's own; 125 when claude-cage fails, 126 when the command cannot be run, "
                        + "127 when it is not found. With --detach 0 once the session runs."},
        sortOptions = false)
final class RunCommand extends BaseCommand implements ErrorHandler.FailureCode {

    @Mixin
    CageOptions options;

    @Mixin
    ApiKeys apiKey;

    @Option(names = "--audit-log", paramLabel = "FILE",
            description = "Keep the cage's audit log (one JSON line per network decision) in FILE.")
    Path auditLog;

    @Option(names = {"--detach", "-d"},
            description = "Run in an ephemeral session in the background and print its name (start --detach "
                    + "--ephemeral): nothing is kept once it stops.")
    boolean detach;

    @Mixin
    SessionNameOption name;

    @Mixin
    RawTerminalOption rawTerminal;

    @Parameters(arity = "1..*", paramLabel = "CMD", description = "The command and its arguments, after --.")
    List<String> command;

    @Override
    public Integer call() {
        if (!detach && name.given().isPresent()) {
            throw new UserInputException("--name names a session, and run without --detach starts none",
                    "add --detach, or leave --name out");
        }
        if (detach && auditLog != null) {
            throw new UserInputException("--audit-log keeps the audit log of a cage run in the foreground; a session "
                    + "started with --detach keeps its own", "leave --audit-log out; see the session's with "
                    + "'claude-cage logs --audit NAME'");
        }
        EffectiveConfig config = context.configLoader().load(options.asFlags());
        if (config.config().mode() == Mode.DESKTOP) {
            // A desktop is watched in a browser while it runs; a run lives on this terminal and publishes nothing.
            throw new UserInputException("run starts one command on this terminal; a desktop is a session "
                    + "(mode: desktop, from " + config.origin(ConfigKey.MODE) + ")",
                    "claude-cage start --mode desktop, or run --mode cli (--image desktop runs a command on the desktop image)");
        }
        ProcessRunner runner = context.runner();
        ApiCredential credential = apiKey.credential(config.config());
        ApiKeys.warnWithoutKey(credential, config.config(), spec.commandLine().getErr());
        if (detach) {
            Sessions.StartResult started = context.sessions().start(new Sessions.StartRequest(
                    name.given(), config.config(), command, true,
                    apiKey.flagKey(), 0, 0,
                    config.config().maxSessions(), null, false));
            spec.commandLine().getOut().println(started.name());
            spec.commandLine().getOut().flush();
            return 0;
        }
        boolean terminal = Host.interactiveTerminal();
        PrintWriter err = spec.commandLine().getErr();
        // A run's home is a tmpfs: the user's Claude setup gets a tmpfs ~/.claude of its own to be mounted in.
        CagePlan plan = context.plan(UserClaudeSetup.addTo(config.config(), null, problem -> {
            err.println("claude-cage: warning: " + problem);
            err.flush();
        }));
        RunOutcome outcome = new OneShotRun(context.statePaths(), runner).run(plan, command, terminal,
                ForegroundStdio.forThisProcess(terminal, rawTerminal.raw), new OneShotRun.Options(credential, auditLog));
        WorkspaceWarnings.print(config.config(), runner, spec.commandLine().getErr());
        return outcome.exitCode();
    }

    @Override
    public int failureExitCode() {
        return RunOutcome.LAUNCHER_FAILED;
    }
}
