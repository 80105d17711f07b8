package dev.claudecage.doctor;

import dev.claudecage.runtime.RunscPlatforms;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunscStatusTest {

    @Test
    void saysWhichPlatformsWorkAndWhichAutoUses() {
        Diagnosis.Finding finding = new RunscStatus("runsc version 0.0~20221219.0", List.of(
                new RunscPlatforms.Probe("ptrace", true, "ran true in 148 ms"),
                new RunscPlatforms.Probe("kvm", false, "hangs: no answer within 5 s")), "ptrace").finding(false);
        assertEquals(Diagnosis.Status.OK, finding.status());
        assertTrue(finding.detail().contains("ptrace works") && finding.detail().contains("kvm does not (hangs")
                && finding.detail().endsWith("auto uses ptrace"), finding.detail());
    }

    @Test
    void noWorkingPlatformOrNoRunscCostsTheRuntime() {
        assertEquals(Diagnosis.Status.MISSING, new RunscStatus("runsc", List.of(
                new RunscPlatforms.Probe("ptrace", false, "failed: x")), null).finding(false).status());
        assertEquals(Diagnosis.Status.MISSING, new RunscStatus(null, List.of(), null).finding(false).status());
        assertEquals(Diagnosis.Status.NOT_NEEDED, new RunscStatus("runsc", List.of(), null).finding(true).status());
    }
}
