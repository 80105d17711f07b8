package dev.claudecage.cli;

import dev.claudecage.host.Host;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "destroy",
        description = "Removes sessions for good: stops each if it runs, then removes its cage and everything it "
                + "left, its record, logs and persisted home. Your mounted folders (the workspace) are never touched.")
final class DestroyCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "NAME", description = "The sessions.")
    List<String> names;

    @Option(names = {"--timeout", "-t"}, paramLabel = "SECONDS", defaultValue = "10",
            description = "When a session runs: seconds between SIGTERM and SIGKILL. Default: ${DEFAULT-VALUE}.")
    int timeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Host.requireRoot("destroy");
        if (timeout < 0) {
            throw new dev.claudecage.UserInputException("--timeout: " + timeout + " is negative; give seconds, 0 or more");
        }
        Sessions sessions = Sessions.forRoot(ProcessRunner.fromEnvironment());
        List<SessionName> sessionNames = names.stream().map(SessionName::of).toList();
        sessionNames.forEach(sessions.store()::require);
        for (SessionName name : sessionNames) {
            sessions.destroy(name, Duration.ofSeconds(timeout));
            spec.commandLine().getOut().println(name);
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
