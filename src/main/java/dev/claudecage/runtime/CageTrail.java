package dev.claudecage.runtime;

import dev.claudecage.config.NetworkMode;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.AuditSummary;

import java.time.Instant;
import java.util.Locale;

/**
 * The lines the evidence trail has about the cage itself, beside the network's decisions: the first,
 * what it was started from (image, policy record, network mode), and the last, how it ended. They are
 * written for every network mode, {@code none} too, where nothing else may be. Their source is
 * {@value #SOURCE}; they name no destination, so that a report never counts them as a host reached.
 */
public final class CageTrail {

    public static final String SOURCE = AuditSummary.CAGE_SOURCE;
    public static final String STARTED = "started";
    public static final String EXITED = "exited";
    public static final String SIGNALLED = "signalled";
    public static final String STOPPED = "stopped";
    public static final String FAILED = "failed";

    /** Exit codes above this are a process killed by signal (code - 128), as shells and runtimes report it. */
    private static final int SIGNAL_BASE = 128;
    private static final int MAX_SIGNAL = 64;

    private CageTrail() {
    }

    /**
     * How a cage ended.
     *
     * @param exitCode      the runtime's exit code, or null when it never gave one (it did not start, or the
     *                      launcher failed)
     * @param stoppedByUser whether a stop request or a signal to the launcher ended it
     * @param problem       what went wrong, or null
     */
    public record Ending(Integer exitCode, boolean stoppedByUser, String problem) {

        /** A cage the launcher took down before it gave an exit code, for the reason {@code problem}. */
        public static Ending failed(String problem) {
            return new Ending(null, false, problem);
        }
    }

    /**
     * The first line of a cage's part of the trail.
     *
     * @param imageId      the stored image's id, or null for a --rootfs directory
     * @param rootfs       the --rootfs directory, or null
     * @param policySha256 the SHA-256 of the cage's policy record ({@link CagePolicy}): a session keeps the record
     *                     (policy.json), a run only this line
     */
    public static AuditEvent started(Instant time, String cageId, NetworkMode network, String imageId, String rootfs,
                                     String policySha256) {
        String from = imageId != null ? "image " + imageId : "root file system " + rootfs;
        return AuditEvent.about(time, SOURCE, STARTED, "cage " + cageId + " started from " + from
                + "; policy record sha256:" + policySha256 + "; network " + network.name().toLowerCase(Locale.ROOT));
    }

    /** The last line of a cage's part of the trail: how it ended, in words and as its decision. */
    public static AuditEvent ended(Instant time, String cageId, Ending ending) {
        Integer code = ending.exitCode();
        String problem = ending.problem() == null ? "" : ": " + ending.problem();
        if (code == null) {
            return line(time, FAILED, "cage " + cageId + " failed before it gave an exit code" + problem);
        }
        String signal = code > SIGNAL_BASE && code <= SIGNAL_BASE + MAX_SIGNAL
                ? " (killed by signal " + (code - SIGNAL_BASE) + ")" : "";
        if (ending.stoppedByUser()) {
            return line(time, STOPPED, "cage " + cageId + " was stopped by the user; exit code " + code + signal);
        }
        if (!signal.isEmpty()) {
            return line(time, SIGNALLED, "cage " + cageId + " ended with exit code " + code + signal + problem);
        }
        if (ending.problem() != null) {
            return line(time, FAILED, "cage " + cageId + " ended with exit code " + code + problem);
        }
        return line(time, EXITED, "cage " + cageId + " exited with code " + code);
    }

    private static AuditEvent line(Instant time, String decision, String reason) {
        return AuditEvent.about(time, SOURCE, decision, reason);
    }

    /** Writes the first line to {@code trail}. */
    static void recordStart(AuditLog trail, String cageId, CagePlan plan, String policySha256) {
        trail.record(started(Instant.now(), cageId, plan.config().network(), plan.imageId(),
                plan.imageId() == null && plan.config().rootfs() != null ? plan.config().rootfs().toString() : null,
                policySha256));
    }
}
