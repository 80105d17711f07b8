package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.claudecode.ClaudeCodeStart;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.terminal.ForegroundStdio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /**
     * @param realKey  the user's API key or Claude login for the gateway, or null
     * @param auditLog where to keep the audit log, or null to keep it only while the cage runs
     */
    public record Options(ApiCredential realKey, Path auditLog) {
    }

    private final StatePaths paths;
    private final ProcessRunner runner;

    public OneShotRun(StatePaths paths, ProcessRunner runner) {
        this.paths = paths;
        this.runner = runner;
    }

    /** Runs {@code command}, with a terminal of its own when {@code terminal}; {@code stdio} joins it to this process's. */
    public RunOutcome run(CagePlan plan, List<String> command, boolean terminal, ForegroundStdio stdio, Options options) {
        String id = Cage.newId("run");
        Path networkState = paths.networkState(id);
        Path auditFile = options.auditLog() != null ? options.auditLog()
                : paths.runs().resolveSibling("audit").resolve(id + ".jsonl");
        CageInstance cage = CageInstance.prepare(plan, id, command, terminal,
                new CageNetworking.Options(options.realKey(), auditFile, networkState, paths.networkLock()),
                keepsTrail(plan, options) ? auditFile : null, paths, runner,
                (spec, networking) -> ClaudeCodeStart.prepare(spec, networking, networkState, OneShotRun::warn));
        AuditLog audit = cage.trail();
        if (audit != null) {
            cage.recordStart(cage.policy(List.of()).sha256());
        }
        try {
            stdio.relay(cage.start(stdio.stdio()));
        } catch (RuntimeException e) {
            cage.close();
            throw e;
        }
        // The launcher only waits while the cage runs, and removes its folders when it has ended.
        LinuxSyscalls.loadWithWalkInBackground();
        Thread onSignal = new Thread(() -> stopAndClose(cage), "claude-cage-signal");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            RunOutcome outcome = cage.awaitExit();
            cage.ended(new CageTrail.Ending(outcome.exitCode(), false, outcome.problem()));
            stdio.finish(System.err);
            return outcome;
        } catch (CageException e) {
            cage.ended(CageTrail.Ending.failed(e.getMessage()));
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopAndClose(cage);
            throw new CageException("interrupted while cage " + id + " was running");
        } finally {
            if (closeUnlessSignalled(cage, onSignal) && audit != null) {
                // After the teardown: the drop logger has written its last lines by then.
                reportDenials(audit, options.auditLog() != null);
            }
        }
    }

    /**
     * Whether the run writes an evidence trail. A trail the user did not ask to keep (--audit-log) is
     * removed when the run ends, unread: a filtered cage's still counts the network's denials for
     * {@link #reportDenials} as they are written, but a cage with no network of its own, or the
     * host's, logs no decision, and its trail (two lines about the cage, and what it changed in its
     * writable folders, walked before and after) would be written for no one, at the cost of a file
     * opened through descriptors, its policy record hashed, and those walks.
     */
    static boolean keepsTrail(CagePlan plan, Options options) {
        return options.auditLog() != null || plan.config().network() == NetworkMode.FILTERED;
    }

    /**
     * Tells the user what the policy stopped, so that a silent failure inside the cage has a
     * visible cause. Counted as the log was written: a log the user keeps may be in a folder the
     * cage wrote, and is never read back.
     */
    private static void reportDenials(AuditLog audit, boolean kept) {
        if (!kept) {
            try {
                Files.delete(audit.file());
            } catch (IOException e) {
                System.err.println("claude-cage: could not remove " + audit.file() + ": " + e.getMessage());
            }
        }
        if (audit.denied() > 0) {
            System.err.println("claude-cage: the network policy denied " + audit.denied() + " attempt(s); "
                    + (kept ? "details in " + audit.file() : "run with --audit-log FILE to keep the details"));
        }
        if (kept && audit.cageWritable() && audit.lastLineSha256() != null) {
            System.err.println("claude-cage: the audit log's last line has SHA-256 " + audit.lastLineSha256()
                    + "; the cage could rewrite the file, so keep this: claude-cage report --check --run "
                    + audit.file() + " --last " + audit.lastLineSha256() + " shows whether anything changed");
        }
    }

    /** Closes the cage unless a signal handler owns that already; says whether it did. */
    private static boolean closeUnlessSignalled(CageInstance cage, Thread onSignal) {
        try {
            Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
        cage.close();
        return true;
    }

    private static void stopAndClose(CageInstance cage) {
        cage.stoppedByUser();
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

    private static void warn(String problem) {
        System.err.println("claude-cage: warning: " + problem);
    }
}
