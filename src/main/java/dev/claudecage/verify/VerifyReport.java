package dev.claudecage.verify;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.session.SessionVerifications;

import java.time.Instant;
import java.util.List;

/**
 * The result of {@code claude-cage verify}: stable field names and probe order, so reports from
 * two versions can be compared line by line. Version 2 added {@code target} and the outcome
 * {@code not-run}.
 *
 * @param target      what the probes ran in: {@value #FRESH_CAGE}, or "session NAME"
 * @param root        what the cages ran on: "image NAME" or "rootfs DIR"
 * @param controlsRun whether positive controls ran; each control must show the hole
 */
public record VerifyReport(int reportVersion, String target, String runtime, String root, String appArmor, boolean controlsRun,
                           List<ProbeResult> probes) {

    public static final int REPORT_VERSION = 2;
    public static final String FRESH_CAGE = "fresh cage";

    public VerifyReport {
        probes = List.copyOf(probes);
    }

    /**
     * @param control the same probe in a cage with its wall taken down; null when controls did not run
     */
    public record ProbeResult(String id, String wall, String description, Outcome outcome, String detail,
                              ControlResult control) {

        @JsonIgnore
        public boolean passed() {
            return (outcome == Outcome.BLOCKED || outcome == Outcome.NOT_RUN) && (control == null || control.outcome() == Outcome.HOLE);
        }
    }

    public record ControlResult(String weakening, Outcome outcome, String detail) {
    }

    @JsonIgnore
    public boolean passed() {
        return probes.stream().allMatch(ProbeResult::passed);
    }

    public long count(Outcome outcome) {
        return probes.stream().filter(probe -> probe.outcome() == outcome).count();
    }

    /** This report as a line of a session's evidence trail (source {@value #TRAIL_SOURCE}): passed or failed, and its counts. */
    public AuditEvent trailLine(Instant time) {
        return AuditEvent.about(time, TRAIL_SOURCE, passed() ? "passed" : "failed",
                "verify --session: " + probes.size() + " probes, " + count(Outcome.BLOCKED) + " blocked, "
                        + count(Outcome.HOLE) + " holes, " + count(Outcome.ERROR) + " errors, " + count(Outcome.NOT_RUN)
                        + " not run; " + (controlsRun ? controlsShowingHole() + " positive controls showed their hole"
                        : "positive controls not run"));
    }

    /** The source of a verify result's line in a session's trail. */
    public static final String TRAIL_SOURCE = SessionVerifications.SOURCE;

    public long controlsShowingHole() {
        return probes.stream().filter(probe -> probe.control() != null && probe.control().outcome() == Outcome.HOLE).count();
    }
}
