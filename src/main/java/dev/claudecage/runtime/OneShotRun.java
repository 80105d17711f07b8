package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.process.ProcessRunner;

import java.time.Duration;
import java.util.List;

/**
 * {@code claude-cage run}: one cage in the foreground on the user's terminal, removed when it
 * ends, like {@code docker run --rm}. SIGINT and SIGTERM to the launcher reach the cage, and the
 * cage is torn down on every way out.
 */
public final class OneShotRun {

    /** How long a signalled cage gets to exit before it is killed. */
    static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final StatePaths paths;
    private final ProcessRunner runner;

    public OneShotRun(StatePaths paths, ProcessRunner runner) {
        this.paths = paths;
        this.runner = runner;
    }

    public RunOutcome run(CageConfig config, List<String> command, boolean terminal) {
        CagePlan plan = CagePlan.resolve(config, paths, runner);
        CageInstance cage = CageInstance.prepare(plan, Cage.newId("run"), command, terminal, paths, runner);
        try {
            cage.start(ProcessBuilder.Redirect.INHERIT);
        } catch (RuntimeException e) {
            cage.close();
            throw e;
        }
        Thread onSignal = new Thread(() -> stopAndClose(cage), "claude-cage-signal");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            return cage.awaitExit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopAndClose(cage);
            throw new CageException("interrupted while cage " + cage.id() + " was running");
        } finally {
            closeUnlessSignalled(cage, onSignal);
        }
    }

    private static void closeUnlessSignalled(CageInstance cage, Thread onSignal) {
        try {
            Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
            // A signal arrived: its handler owns the teardown now.
            return;
        }
        cage.close();
    }

    private static void stopAndClose(CageInstance cage) {
        try {
            cage.stop(STOP_GRACE);
        } finally {
            try {
                cage.close();
            } catch (CageException e) {
                System.err.println("claude-cage: " + e.getMessage());
            }
        }
    }
}
