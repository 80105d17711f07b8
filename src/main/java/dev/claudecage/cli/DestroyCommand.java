package dev.claudecage.cli;

import dev.claudecage.session.SessionName;
import picocli.CommandLine.Mixin;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "destroy", aliases = "rm",
        description = "Removes sessions for good: stops each if it runs, then removes its cage and everything it "
                + "left, its record, logs and persisted home. Your mounted folders (the workspace) are never touched.")
final class DestroyCommand extends BaseCommand {

    @CommandLine.Mixin
    SessionTargets targets;

    @Override
    public Integer call() {
        for (SessionName name : targets.resolve(context.sessions())) {
            context.sessions().destroy(name, targets.grace());
            spec.commandLine().getOut().println(name);
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
