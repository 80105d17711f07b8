package dev.claudecage.net;

import dev.claudecage.CageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14, attack 1: the audit log in a folder the cage writes, replaced by a link to a host file. */
class AuditLogTest {

    @TempDir
    Path dir;

    private static AuditEvent event(String destination, String decision) {
        return new AuditEvent(Instant.parse("2026-01-01T00:00:00Z"), "dns", destination, 53, decision, "test", null, null);
    }

    @Test
    void aLinkTheCagePutInPlaceOfTheLogIsNotWrittenThrough() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Path bashrc = Files.writeString(dir.resolve("bash.bashrc"), "# the host's\n");
        Path audit = workspace.resolve("audit.jsonl");
        try (AuditLog log = AuditLog.open(audit, List.of(workspace))) {
            log.record(event("example.com", AuditEvent.ALLOWED));
            log.record(event("$({touch,/tmp/x})x", AuditEvent.DENIED));
            assertEquals(1, log.denied());
        }
        assertEquals(2, AuditLog.read(audit).size());
        Files.delete(audit);
        Files.createSymbolicLink(audit, bashrc);

        CageException refused = assertThrows(CageException.class, () -> AuditLog.open(audit, List.of(workspace)));

        assertTrue(refused.getMessage().contains("symbolic link"), refused.getMessage());
        assertEquals("# the host's\n", Files.readString(bashrc));
        // Positive control: the plain file API appends through the link.
        Files.writeString(audit, "{}\n", StandardOpenOption.APPEND);
        assertEquals("# the host's\n{}\n", Files.readString(bashrc));
    }

    @Test
    void aHardLinkToAHostFileIsRefusedToo() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Path hostFile = Files.writeString(dir.resolve("host"), "host\n");
        Files.createLink(workspace.resolve("audit.jsonl"), hostFile);

        assertThrows(CageException.class, () -> AuditLog.open(workspace.resolve("audit.jsonl"), List.of(workspace)));
        assertEquals("host\n", Files.readString(hostFile));
    }
}
