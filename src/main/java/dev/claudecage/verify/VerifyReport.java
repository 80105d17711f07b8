package dev.claudecage.verify;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.List;

/**
 * The result of {@code claude-cage verify}: stable field names and probe order, so reports from
 * two versions can be compared line by line.
 *
 * @param controlsRun whether positive controls ran; each control must show the hole
 * @param notRun      which probes did not run and why (a rootless cage without limits); null when all ran
 */
public record VerifyReport(int reportVersion, String runtime, String appArmor, boolean controlsRun,
                           List<ProbeResult> probes, List<String> notRun) {

    public static final int REPORT_VERSION = 1;

    public VerifyReport {
        probes = List.copyOf(probes);
        notRun = notRun == null ? null : List.copyOf(notRun);
    }

    /**
     * @param control the same probe in a cage with its wall taken down; null when controls did not run
     */
    public record ProbeResult(String id, String wall, String description, Outcome outcome, String detail,
                              ControlResult control) {

        @JsonIgnore
        public boolean passed() {
            return outcome == Outcome.BLOCKED && (control == null || control.outcome() == Outcome.HOLE);
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

    public long controlsShowingHole() {
        return probes.stream().filter(probe -> probe.control() != null && probe.control().outcome() == Outcome.HOLE).count();
    }
}
