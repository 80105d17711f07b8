package dev.claudecage.session;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionLogsTest {

    @Test
    void auditLinesAreFilteredByTheirTime() {
        Instant from = Instant.parse("2026-01-01T10:00:00Z");
        assertTrue(SessionLogs.before("{\"decision\":\"denied\",\"time\":\"2026-01-01T09:59:59Z\"}", from));
        assertFalse(SessionLogs.before("{\"decision\":\"denied\",\"time\":\"2026-01-01T10:00:01Z\"}", from));
        assertFalse(SessionLogs.before("{\"decision\":\"denied\"}", from), "a line without a time is kept");
        assertFalse(SessionLogs.before("not json", from), "an unreadable line is kept");
    }
}
