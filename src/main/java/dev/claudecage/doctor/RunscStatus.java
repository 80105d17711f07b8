package dev.claudecage.doctor;

import dev.claudecage.runtime.RunscPlatforms;

import java.util.List;
import java.util.stream.Collectors;

/**
 * gVisor (runsc) on this host: its version, each platform tried within a bound, and the one
 * {@code runsc_platform: auto} uses. Gathered by {@code doctor} as root only (runsc needs root);
 * judged here, without touching the host.
 *
 * @param version the first line of {@code runsc --version}, or null when runsc is missing
 * @param probes  each platform tried, or empty when not tried (not installed, or not root)
 * @param used    the platform {@code auto} picks, or null when none was tried
 */
public record RunscStatus(String version, List<RunscPlatforms.Probe> probes, String used) {

    public RunscStatus {
        probes = List.copyOf(probes);
    }

    /** The doctor's finding for runsc. */
    public Diagnosis.Finding finding(boolean rootless) {
        String check = "runtime runsc (gVisor)";
        if (version == null) {
            return new Diagnosis.Finding(check, Diagnosis.Status.MISSING, "not installed (apt-get install runsc)",
                    "--runtime runsc does not work (runc is the default)");
        }
        if (rootless) {
            return new Diagnosis.Finding(check, Diagnosis.Status.NOT_NEEDED, version + "; root only",
                    "claude-cage runs gVisor as root only");
        }
        String platforms = probes.stream().map(probe -> probe.platform() + " " + (probe.works() ? "works" : "does not")
                + " (" + probe.detail() + ")").collect(Collectors.joining("; "));
        boolean anyWorks = probes.stream().anyMatch(RunscPlatforms.Probe::works);
        return new Diagnosis.Finding(check, anyWorks ? Diagnosis.Status.OK : Diagnosis.Status.MISSING,
                version + "; " + platforms + (anyWorks ? "; auto uses " + used : ""),
                anyWorks ? "" : "--runtime runsc does not work: no platform runs here");
    }
}
