package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.session.SessionConfig;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

@Command(name = "stop",
        description = {
                "Stops sessions: SIGTERM to the cage's command, SIGKILL when it has not ended after the timeout. "
                        + "The cage is removed; the session's record, logs and persisted home stay, so it can be "
                        + "started again. An ephemeral session is removed.",
                "A session whose supervisor crashed is cleaned up and recorded as crashed.",
                "Afterwards it warns about git repositories the cage left in a writable mount whose configuration "
                        + "or hooks run programs (git status on the host would run them)."})
final class StopCommand extends BaseCommand {

    @CommandLine.Mixin
    SessionTargets targets;

    @Override
    public Integer call() {
        Sessions sessions = context.sessions();
        for (SessionName name : targets.resolve(sessions)) {
            // Read first: stopping an ephemeral session removes its record. Made into a configuration
            // (about 50 ms) while the supervisor stops the cage: only the warnings after need it.
            Map<String, Object> recorded = sessions.store().require(name).config();
            CompletableFuture<CageConfig> config = CompletableFuture.supplyAsync(() -> SessionConfig.load(recorded));
            Sessions.StopResult result = sessions.stop(name, targets.grace());
            if (result.wasRunning()) {
                spec.commandLine().getOut().println(name);
                WorkspaceWarnings.print(joined(config), context.runner(), spec.commandLine().getErr());
            } else {
                spec.commandLine().getErr().println("claude-cage: session " + name + " was not running ("
                        + result.state() + ")");
            }
        }
        spec.commandLine().getOut().flush();
        spec.commandLine().getErr().flush();
        return 0;
    }

    /** The configuration, or the error that loading it met, as loading it here would have thrown it. */
    private static CageConfig joined(CompletableFuture<CageConfig> config) {
        try {
            return config.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }
}
