package dev.claudecage.cli;

import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "attach",
        description = {
                "Joins this terminal to a running session: what you type goes to the cage, what it writes comes here "
                        + "(starting with its recent output). Ctrl-P Ctrl-Q detaches and leaves it running.",
                "Exit code: the cage's own when it ends while attached; 0 when detached."})
final class AttachCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "The session.")
    String name;

    @Override
    public Integer call() {
        return SessionTerminal.attach(Sessions.current(ProcessRunner.fromEnvironment()), SessionName.of(name));
    }
}
