package dev.claudecage.net;

import dev.claudecage.CageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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

    /**
     * Issue 24: 200 CONNECTs with an 8,100-byte host name wrote a 19.5 MB audit file (the name copied into
     * destination and reason). Each cage-chosen field is cut, with its length and a hash of the whole, so that
     * two long names can still be told apart.
     */
    @Test
    void aLongNameTheCageChoseIsCutWithItsLengthAndHash() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        String name = "x".repeat(8100) + ".example.com";
        String other = "y" + name.substring(1);
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            log.record(AuditEvent.denied("proxy", name, 443, "'" + name + "' is not a valid host name"));
            log.record(AuditEvent.denied("proxy", other, 443, "'" + other + "' is not a valid host name"));
        }
        List<String> lines = Files.readAllLines(audit);
        AuditEvent first = AuditLog.read(audit).get(0);
        AuditEvent second = AuditLog.read(audit).get(1);

        assertTrue(lines.stream().allMatch(line -> line.length() < 1_200), "line lengths: "
                + lines.stream().map(String::length).toList());
        assertTrue(first.destination().startsWith("x".repeat(AuditEvent.MAX_DESTINATION_CHARS) + "...[8112 characters, sha256:"),
                first.destination());
        assertTrue(first.reason().startsWith("'xxx") && first.reason().contains("...[8139 characters, sha256:"), first.reason());
        assertNotEquals(first.destination().substring(first.destination().indexOf("sha256:")),
                second.destination().substring(second.destination().indexOf("sha256:")));
        // The control: a name of normal length is kept whole.
        assertEquals("api.example.com", AuditEvent.denied("proxy", "api.example.com", 443, "r").bounded().destination());
    }

    @Test
    void aCutNeverSplitsASurrogatePair() {
        String text = "a".repeat(AuditEvent.MAX_DESTINATION_CHARS - 1) + "\uD83D\uDE00" + "b".repeat(10);
        String cut = AuditEvent.bounded(text, AuditEvent.MAX_DESTINATION_CHARS);

        assertFalse(Character.isHighSurrogate(cut.charAt(AuditEvent.MAX_DESTINATION_CHARS - 2)), cut);
        assertTrue(cut.startsWith("a".repeat(AuditEvent.MAX_DESTINATION_CHARS - 1) + "..."), cut);
    }

    /**
     * Issue 24: the DNS stub throttled its lines, the proxy did not. Every source now goes through the log's rate
     * limit: a flood writes its burst, then summary lines that account for every event, bytes included.
     */
    @Test
    void aFloodFromAnySourceIsRateLimitedAndEveryEventAccountedFor() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        int flood = 5_000;
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            for (int i = 0; i < flood; i++) {
                log.record(new AuditEvent(Instant.now(), "proxy", "n" + i + ".test", 443, AuditEvent.ALLOWED, null, 10L, 20L));
            }
            log.record(event("control.test", AuditEvent.DENIED));
            assertEquals(1, log.denied(), "denied counts every event, written or not");
        }
        List<AuditEvent> events = AuditLog.read(audit);
        List<AuditEvent> proxy = events.stream().filter(event -> event.source().equals("proxy")).toList();

        assertTrue(proxy.size() < AuditLog.BURST + 200, "lines from the flood: " + proxy.size());
        long accounted = proxy.stream().mapToLong(event -> event.destination() != null ? 1
                : Long.parseLong(event.reason().substring(0, event.reason().indexOf(' ')))).sum();
        assertEquals(flood, accounted);
        assertEquals(flood * 10L, proxy.stream().mapToLong(AuditEvent::bytesSent).sum());
        assertEquals(flood * 20L, proxy.stream().mapToLong(AuditEvent::bytesReceived).sum());
        assertTrue(events.stream().anyMatch(event -> "control.test".equals(event.destination())),
                "another source has a budget of its own");
    }

    /**
     * Issue 24: the cage could fill the host's disk through its audit log. A flood of long names leaves the file
     * under its cap; the last line says the cap was reached, and what came after is only counted.
     */
    @Test
    void aFloodOfLongNamesLeavesTheFileUnderItsCapWithALastLineThatSaysSo() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        long cap = 256 * 1024;
        String name = "x".repeat(8100);
        Map<String, Long> unwritten;
        try (AuditLog log = AuditLog.open(audit, List.of(), cap)) {
            for (int i = 0; i < 20_000; i++) {
                log.record(AuditEvent.denied("source" + (i % 50), name + i, 443, "'" + name + i + "' is not a valid host name"));
            }
            unwritten = log.unwritten();
        }

        assertTrue(Files.size(audit) <= cap, "the file is " + Files.size(audit) + " bytes");
        List<AuditEvent> events = AuditLog.read(audit);
        AuditEvent last = events.get(events.size() - 1);
        assertEquals(AuditLog.AUDIT_SOURCE, last.source());
        assertEquals(AuditLog.FULL, last.decision());
        assertEquals("the audit log reached its size cap of 256k (audit_log_limit): later events are counted, not written",
                last.reason());
        assertTrue(unwritten.values().stream().mapToLong(Long::longValue).sum() > 0, unwritten.toString());
        long written = events.stream().filter(event -> event.source().startsWith("source")).count();
        assertEquals(20_000, written + unwritten.values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void aLogAlreadyAtItsCapWritesNothingMore() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        Files.writeString(audit, "x".repeat(64 * 1024));
        try (AuditLog log = AuditLog.open(audit, List.of(), 64 * 1024)) {
            log.record(event("example.com", AuditEvent.DENIED));
            assertEquals(Map.of("dns denied", 1L), log.unwritten());
        }
        assertEquals(64 * 1024, Files.size(audit));
    }

    @Test
    void aLogReadBackLeavesOutLinesThatAreNotEventsAndCountsThem() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            log.record(event("example.com", AuditEvent.DENIED));
        }
        Files.writeString(audit, "not json\n" + "x".repeat(AuditLog.MAX_LINE_BYTES + 1) + "\n\n", StandardOpenOption.APPEND);
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            log.record(event("example.org", AuditEvent.DENIED));
        }

        AuditLog.Contents contents = AuditLog.readLeniently(audit);

        assertEquals(List.of("example.com", "example.org"), contents.events().stream().map(AuditEvent::destination).toList());
        assertEquals(2, contents.unreadable());
        CageException strict = assertThrows(CageException.class, () -> AuditLog.read(audit));
        assertTrue(strict.getMessage().contains("2 line(s) that are not audit events"), strict.getMessage());
    }

    @Test
    void aLogReadBackIsNotReadThroughALinkTheCagePutInItsPlace() throws Exception {
        Path secret = Files.writeString(dir.resolve("other-session-audit.jsonl"),
                "{\"source\":\"proxy\",\"destination\":\"secret.example\",\"decision\":\"denied\"}\n");
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Path audit = Files.createSymbolicLink(workspace.resolve("audit.jsonl"), secret);

        CageException refused = assertThrows(CageException.class, () -> AuditLog.readLeniently(audit));

        assertTrue(refused.getMessage().contains("symbolic link"), refused.getMessage());
        // Positive control: through the plain file API the link leads to the other log.
        assertTrue(Files.readString(audit).contains("secret.example"));
    }
}
