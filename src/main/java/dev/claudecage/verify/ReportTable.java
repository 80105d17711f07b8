package dev.claudecage.verify;

import dev.claudecage.host.UntrustedText;

import java.util.List;

/** The human-readable form of a {@link VerifyReport}: one aligned row per probe and a summary. */
public final class ReportTable {

    private ReportTable() {
    }

    public static String render(VerifyReport report) {
        StringBuilder out = new StringBuilder();
        String format = "%-30s %-12s %-8s %-8s %s%n";
        out.append(String.format(format, "PROBE", "WALL", "RESULT", "CONTROL", "DETAIL"));
        for (VerifyReport.ProbeResult probe : report.probes()) {
            String control = probe.control() == null ? "-" : probe.control().outcome().word();
            // A detail can quote what the cage printed (verify --session probes a cage that may be hostile).
            out.append(String.format(format, probe.id(), probe.wall(), probe.outcome().word(), control,
                    UntrustedText.escape(probe.detail())));
        }
        out.append('\n');
        List<VerifyReport.ProbeResult> failedControls = report.probes().stream()
                .filter(probe -> probe.control() != null && probe.control().outcome() != Outcome.HOLE).toList();
        for (VerifyReport.ProbeResult probe : failedControls) {
            out.append("control for ").append(probe.id()).append(" (").append(probe.control().weakening())
                    .append(") did not show the hole: ").append(UntrustedText.escape(probe.control().detail())).append('\n');
        }
        out.append(String.format("%d probes: %d blocked, %d holes, %d errors", report.probes().size(),
                report.count(Outcome.BLOCKED), report.count(Outcome.HOLE), report.count(Outcome.ERROR)));
        out.append(report.count(Outcome.NOT_RUN) == 0 ? "\n"
                : String.format(", %d not run in this target (their controls still ran)%n", report.count(Outcome.NOT_RUN)));
        out.append(report.controlsRun()
                ? String.format("positive controls: %d of %d showed the hole with their wall taken down%n",
                report.controlsShowingHole(), report.probes().size())
                : "positive controls: not run (--no-controls)\n");
        out.append("target: ").append(report.target()).append('\n');
        out.append("runtime: ").append(report.runtime()).append('\n');
        out.append("root: ").append(report.root()).append('\n');
        out.append("apparmor: ").append(report.appArmor()).append('\n');
        out.append(report.passed() ? "verify: every wall held\n" : "verify: FAILED\n");
        return out.toString();
    }
}
