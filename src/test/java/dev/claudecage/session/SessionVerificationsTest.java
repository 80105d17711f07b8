package dev.claudecage.session;

import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Issue 18: verify --session's results reach the session's trail through its supervisor, the trail's one writer. */
class SessionVerificationsTest {

    @TempDir
    Path dir;

    @Test
    void resultsAreHandedOverInOrderPrivatelyAndBounded() throws Exception {
        SessionPaths paths = new SessionPaths(SessionName.of("s"), dir.resolve("data"), Files.createDirectory(dir.resolve("run")),
                false);
        assertEquals(List.of(), SessionVerifications.read(paths));
        AuditEvent first = new AuditEvent(Instant.parse("2026-12-07T10:00:00Z"), "verify", null, null, "passed", "one", null, null);
        AuditEvent second = new AuditEvent(Instant.parse("2026-12-07T10:05:00Z"), "verify", null, null, "failed", "two", null, null);

        SessionVerifications.add(paths, first);
        Files.writeString(paths.verifications(), "{torn\n", StandardOpenOption.APPEND);
        SessionVerifications.add(paths, second);

        assertEquals(List.of(first, second), SessionVerifications.read(paths));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(paths.verifications())));
        for (int i = 0; i < SessionVerifications.MOST; i++) {
            SessionVerifications.add(paths, second);
        }
        assertEquals(SessionVerifications.MOST - 1, SessionVerifications.read(paths).size(), "the torn line counts to the bound");
    }
}
