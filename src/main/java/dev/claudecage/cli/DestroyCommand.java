package dev.claudecage.cli;

import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.time.Duration;

@Command(name = "destroy",
        description = "Removes sessions for good: stops each if it runs, then removes its cage and everything it "
                + "left, its record, logs and persisted home. Your mounted folders (the workspace) are never touched.")
final class DestroyCommand extends BaseCommand {

    @CommandLine.Mixin
    SessionTargets targets;

    @Override
    public Integer call() {
        Duration grace = targets.grace();
        Sessions sessions = context.sessions();
        for (SessionName name : targets.resolve(sessions)) {
            sessions.destroy(name, grace);
            spec.commandLine().getOut().println(name);
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
