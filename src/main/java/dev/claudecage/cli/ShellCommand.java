package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.host.Host;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import dev.claudecage.terminal.ForegroundStdio;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.List;

@Command(name = "shell", aliases = "exec",
        description = {
                "Opens a new shell (or runs CMD) inside a running session's cage, as the cage's user and behind the "
                        + "same walls: its namespaces, seccomp filter, no capabilities, no new privileges.",
                RawTerminalOption.FOREGROUND_HELP,
                "Exit code: the shell's (or CMD's) own."})
final class ShellCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "CMD", description = "What to run instead of bash, after --.")
    List<String> command;

    @Mixin
    RawTerminalOption rawTerminal;

    @Override
    public Integer call() {
        ProcessRunner runner = context.runner();
        Sessions sessions = context.sessions();
        boolean terminal = Host.interactiveTerminal();
        SessionName name = session.name();
        List<String> exec = sessions.execCommand(sessions.live(name), List.of(),
                command == null || command.isEmpty() ? List.of("bash") : command, terminal);
        ForegroundStdio stdio = ForegroundStdio.forThisProcess(terminal, rawTerminal.raw);
        Process process = runner.startAttached(exec, stdio.stdio());
        stdio.relay(process);
        try {
            process.waitFor();
            stdio.finish(System.err);
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
            throw new CageException("interrupted while the shell in session " + name + " ran");
        }
    }
}
