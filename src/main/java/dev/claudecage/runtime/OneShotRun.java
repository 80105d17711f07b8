package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.process.ProcessRunner;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
        OciRuntime runtime = plan.runtime();
        String id = Cage.newId("run");
        Cage cage = Cage.prepare(id, plan.rootfs(), plan.spec(id, command, terminal), paths, runtime, runner);
        Process process;
        try {
            process = runtime.startRun(id, cage.bundle(), cage.log());
        } catch (RuntimeException e) {
            cage.close();
            throw e;
        }
        Thread onSignal = new Thread(() -> stop(process, cage), "claude-cage-signal");
        Runtime.getRuntime().addShutdownHook(onSignal);
        int exitCode;
        try {
            exitCode = process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(process, cage);
            throw new CageException("interrupted while cage " + id + " was running");
        }
        RunOutcome outcome = RunOutcome.of(exitCode, cage.log().lastError());
        if (outcome.exitCode() == RunOutcome.LAUNCHER_FAILED) {
            CageException failure = runtime.explainFailure("cage " + id + " did not start", cage.log());
            closeUnlessSignalled(cage, onSignal);
            throw failure;
        }
        closeUnlessSignalled(cage, onSignal);
        return outcome;
    }

    private static void closeUnlessSignalled(Cage cage, Thread onSignal) {
        try {
            Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
            // A signal arrived: its handler owns the teardown now.
            return;
        }
        cage.close();
    }

    /** Forwards the stop to the runtime (which passes it to the cage), then kills, then removes. */
    private static void stop(Process process, Cage cage) {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    cage.runtime().kill(cage.id(), "KILL");
                    process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                cage.close();
            } catch (CageException e) {
                System.err.println("claude-cage: " + e.getMessage());
            }
        }
    }
}
