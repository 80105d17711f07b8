package dev.claudecage.cli;

import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "start",
        description = {
                "Starts a named session: a cage that keeps running in the background under its own supervisor, "
                        + "until it ends or is stopped. Without --detach, attaches this terminal to it at once "
                        + "(detach with Ctrl-P Ctrl-Q).",
                "Starting an existing, stopped session starts it again with the settings it was created with "
                        + "(and its persisted home).",
                "Exit code: with --detach 0 once the cage runs; attached, the cage's own when it ends there, "
                        + "0 when detached; 1 when it cannot start (max_sessions reached, say); 2 for bad input."},
        sortOptions = false)
final class StartCommand implements Callable<Integer> {

    @Option(names = "--name", paramLabel = "NAME",
            description = "The session's name: lowercase letters, digits and dashes. Default: a generated one, "
                    + "like brisk-otter.")
    String name;

    @Option(names = {"--detach", "-d"}, description = "Start in the background and print the session's name.")
    boolean detach;

    @Option(names = "--ephemeral",
            description = "Keep nothing on disk: a throwaway home, logs in memory, and the session is removed when it stops.")
    boolean ephemeral;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Your Anthropic API key for the session's API gateway (default: $ANTHROPIC_API_KEY). "
                    + "It never enters the cage. Prefer the environment variable: a command line is visible to "
                    + "other users of this host.")
    String apiKey;

    @Mixin
    CageOptions options;

    @Parameters(arity = "0..*", paramLabel = "CMD",
            description = "The command to run in the cage, after --. Default: claude.")
    List<String> command;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Optional<SessionName> sessionName = Optional.ofNullable(name).map(SessionName::of);
        Sessions sessions = Sessions.current(ProcessRunner.fromEnvironment());
        EffectiveConfig config = ConfigLoader.forThisHost().load(options.asFlags());
        boolean restart = sessionName.map(sessions.store()::exists).orElse(false)
                && options.asFlags().isEmpty() && command == null && !ephemeral;
        int[] size = detach ? null : SessionTerminal.size();
        Sessions.StartResult started = sessions.start(new Sessions.StartRequest(sessionName,
                restart ? null : config.config(), command == null ? List.of("claude") : command, ephemeral,
                ApiKeys.fromFlagOrEnvironment(apiKey), size == null ? 0 : size[0], size == null ? 0 : size[1],
                config.config().maxSessions()));
        if (detach) {
            spec.commandLine().getOut().println(started.name());
            spec.commandLine().getOut().flush();
            return 0;
        }
        return SessionTerminal.attach(sessions, started.name());
    }
}
