package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.config.Mode;
import dev.claudecage.desktop.DesktopAccess;
import dev.claudecage.desktop.DesktopPort;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@Command(name = "start",
        description = {
                "Starts a named session: a cage that keeps running in the background under its own supervisor, "
                        + "until it ends or is stopped. Without --detach, attaches this terminal to it at once "
                        + "(detach with Ctrl-P Ctrl-Q); as with attach, control sequences that act on your terminal "
                        + "rather than draw on it are dropped (see --raw-terminal).",
                "Starting an existing, stopped session starts it again with the settings it was created with "
                        + "(and its persisted home).",
                "With --mode desktop, the cage runs a desktop with the command in a terminal, published on this host "
                        + "(--port, 127.0.0.1:6080 by default) behind a VNC password that start and status show.",
                "Exit code: with --detach 0 once the cage runs; attached, the cage's own when it ends there, "
                        + "0 when detached; 1 when it cannot start (max_sessions reached, say); 2 for bad input."},
        sortOptions = false)
final class StartCommand extends BaseCommand {

    @Mixin
    SessionNameOption name;

    @Option(names = {"--detach", "-d"}, description = "Start in the background and print the session's name.")
    boolean detach;

    @Option(names = "--ephemeral",
            description = "Keep nothing on disk: a throwaway home, logs in memory, and the session is removed when it stops.")
    boolean ephemeral;

    @Mixin
    ApiKeys apiKey;

    @Option(names = {"--port", "-p"}, paramLabel = "[ADDRESS:]HOSTPORT:CAGEPORT",
            description = "Desktop mode: where the desktop (noVNC) is published on this host. Default: "
                    + DesktopPort.DEFAULT + ". An address other than loopback needs --publish-beyond-loopback.")
    String port;

    @Option(names = "--publish-beyond-loopback",
            description = "Desktop mode: allow a --port address other than loopback, so that other machines can reach "
                    + "the desktop (its password is then all that guards it). Prints a warning.")
    boolean beyondLoopback;

    @Option(names = "--clone",
            description = "Run the agent on a private copy of the repository mounted at /workspace, made outside "
                    + "the cage in the session's data folder; the original is not mounted. See its work with "
                    + "'claude-cage diff NAME', bring its commits back with 'claude-cage apply NAME'.")
    boolean clone;

    @Parameters(arity = "0..*", paramLabel = "CMD",
            description = "The command to run in the cage, after --. Default: claude.")
    List<String> command;

    @Mixin
    CageOptions options;

    @Mixin
    RawTerminalOption rawTerminal;

    @Override
    public Integer call() {
        Optional<SessionName> sessionName = name.given();
        Sessions sessions = context.sessions();
        Map<String, Object> flags = options.asFlags();
        EffectiveConfig config = context.configLoader().load(flags);
        boolean restart = sessionName.map(sessions.store()::exists).orElse(false)
                && flags.isEmpty() && command == null && !ephemeral && port == null && !clone;
        DesktopPort desktopPort = restart ? null : desktopPort(config.config().mode());
        int[] size = detach ? null : SessionTerminal.size();
        CageConfig startedConfig = restart ? sessions.config(sessionName.get()) : config.config();
        ApiKeys.warnWithoutKey(apiKey.credential(startedConfig), startedConfig, spec.commandLine().getErr());
        Sessions.StartResult started = sessions.start(new Sessions.StartRequest(sessionName,
                restart ? null : config.config(), command == null ? List.of("claude") : command, ephemeral,
                apiKey.flagKey(), size == null ? 0 : size[0], size == null ? 0 : size[1],
                config.config().maxSessions(), desktopPort, clone));
        Optional<DesktopAccess> desktop = sessions.desktopAccess(started.name());
        if (detach) {
            PrintWriter out = spec.commandLine().getOut();
            out.println(started.name());
            desktop.ifPresent(access -> printDesktop(out, access));
            out.flush();
            return 0;
        }
        desktop.ifPresent(access -> {
            PrintWriter err = spec.commandLine().getErr();
            printDesktop(err, access);
            err.flush();
        });
        return SessionTerminal.attach(sessions, started.name(), rawTerminal.raw);
    }

    /** Where a new desktop session is published; null for a CLI session. */
    private DesktopPort desktopPort(Mode mode) {
        if (mode != Mode.DESKTOP) {
            if (port != null || beyondLoopback) {
                throw new UserInputException((port != null ? "--port" : "--publish-beyond-loopback")
                        + " publishes a desktop session, and this one is in mode '" + mode.yamlWord() + "'",
                        "add --mode desktop");
            }
            return null;
        }
        DesktopPort mapping = DesktopPort.parse(port == null ? DesktopPort.DEFAULT : port);
        if (!mapping.loopbackOnly()) {
            if (!beyondLoopback) {
                throw new UserInputException("--port " + port + " publishes the desktop on "
                        + mapping.hostAddress().getHostAddress() + ", beyond this host's loopback: other machines could "
                        + "reach it", "use 127.0.0.1:PORT:6080, or add --publish-beyond-loopback if that is what you want");
            }
            spec.commandLine().getErr().println("claude-cage: warning: the desktop is published on " + mapping.format()
                    + ": anyone who can reach that address and knows the password can watch and drive the cage's desktop");
            spec.commandLine().getErr().flush();
        }
        return mapping;
    }

    static void printDesktop(PrintWriter out, DesktopAccess access) {
        out.println("desktop:  " + access.mapping().url());
        out.println("password: " + access.password());
    }
}
