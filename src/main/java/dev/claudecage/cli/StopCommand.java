package dev.claudecage.cli;

import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "stop",
        description = {
                "Stops sessions: SIGTERM to the cage's command, SIGKILL when it has not ended after the timeout. "
                        + "The cage is removed; the session's record, logs and persisted home stay, so it can be "
                        + "started again. An ephemeral session is removed.",
                "A session whose supervisor crashed is cleaned up and recorded as crashed."})
final class StopCommand implements Callable<Integer> {

    @CommandLine.Mixin
    SessionTargets targets;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Duration grace = targets.grace();
        Sessions sessions = Sessions.current(ProcessRunner.fromEnvironment());
        for (SessionName name : targets.resolve(sessions)) {
            Sessions.StopResult result = sessions.stop(name, grace);
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
