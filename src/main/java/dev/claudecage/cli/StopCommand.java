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

@Command(name = "stop",
        description = {
                "Stops sessions: SIGTERM to the cage's command, SIGKILL when it has not ended after the timeout. "
                        + "The cage is removed; the session's record, logs and persisted home stay, so it can be "
                        + "started again. An ephemeral session is removed.",
                "A session whose supervisor crashed is cleaned up and recorded as crashed."})
final class StopCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "NAME", description = "The sessions.")
    List<String> names;

    @Option(names = {"--timeout", "-t"}, paramLabel = "SECONDS", defaultValue = "10",
            description = "Seconds between SIGTERM and SIGKILL. Default: ${DEFAULT-VALUE}.")
    int timeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Host.requireRoot("stop");
        if (timeout < 0) {
            throw new dev.claudecage.UserInputException("--timeout: " + timeout + " is negative; give seconds, 0 or more");
        }
        Sessions sessions = Sessions.forRoot(ProcessRunner.fromEnvironment());
        List<SessionName> sessionNames = names.stream().map(SessionName::of).toList();
        sessionNames.forEach(sessions.store()::require);
        for (SessionName name : sessionNames) {
            Sessions.StopResult result = sessions.stop(name, Duration.ofSeconds(timeout));
            if (result.wasRunning()) {
                spec.commandLine().getOut().println(name);
            } else {
                spec.commandLine().getErr().println("claude-cage: session " + name + " was not running ("
                        + result.state() + ")");
            }
        }
        spec.commandLine().getOut().flush();
        spec.commandLine().getErr().flush();
        return 0;
    }
}
