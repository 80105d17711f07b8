package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.process.ProcessRunner;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One cage from preparation to removal: its bundle and root, the runtime process that runs it,
 * and everything it needs around it. {@code run} drives one on the user's terminal; a session's
 * supervisor drives one on a pty it holds. {@link #close()} takes everything down, on every path.
 */
public final class CageInstance implements AutoCloseable {

    private final CagePlan plan;
    private final Cage cage;
    private Process runtimeProcess;

    private CageInstance(CagePlan plan, Cage cage) {
        this.plan = plan;
        this.cage = cage;
    }

    /** Prepares a cage for {@code command} under {@code id}; nothing runs yet. */
    public static CageInstance prepare(CagePlan plan, String id, List<String> command, boolean terminal,
                                       StatePaths paths, ProcessRunner runner) {
        Cage cage = Cage.prepare(id, plan.rootfs(), plan.spec(id, command, terminal), paths, plan.runtime(), runner);
        return new CageInstance(plan, cage);
    }

    public String id() {
        return cage.id();
    }

    public CagePlan plan() {
        return plan;
    }

    /** Starts the cage in the foreground of the runtime, its stdio on {@code stdio}. */
    public synchronized Process start(ProcessBuilder.Redirect stdio) {
        if (runtimeProcess != null) {
            throw new IllegalStateException("cage " + id() + " was started already");
        }
        runtimeProcess = plan.runtime().startRun(id(), cage.bundle(), cage.log(), stdio);
        return runtimeProcess;
    }

    /** Waits for the cage to end and says how, in {@code docker run}'s exit codes. */
    public RunOutcome awaitExit() throws InterruptedException {
        int exitCode = runtimeProcess.waitFor();
        RunOutcome outcome = RunOutcome.of(exitCode, cage.log().lastError());
        if (outcome.exitCode() == RunOutcome.LAUNCHER_FAILED) {
            throw plan.runtime().explainFailure("cage " + id() + " did not start", cage.log());
        }
        return outcome;
    }

    /**
     * Stops the cage: SIGTERM through the runtime (which passes it to the cage's process), then
     * SIGKILL when it has not ended within {@code grace}.
     */
    public void stop(Duration grace) {
        Process process;
        synchronized (this) {
            process = runtimeProcess;
        }
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            process.destroy();
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                plan.runtime().kill(id(), "KILL");
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while stopping cage " + id());
        }
    }

    /** Removes everything the cage left; safe to call twice and from a signal handler. */
    @Override
    public void close() {
        cage.close();
    }
}
