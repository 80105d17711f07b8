package dev.claudecage.net;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 18: report's text for a person, with what the cage chose escaped. */
class AuditSummaryTest {

    private static final Instant T = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void aLogIsToldByDecisionsDestinationsAndItsChain() {
        List<AuditEvent> events = List.of(
                new AuditEvent(T, "proxy", "registry.npmjs.org", 443, AuditEvent.ALLOWED, null, 2048L, 1048576L),
                new AuditEvent(T.plusSeconds(1), "proxy", "registry.npmjs.org", 443, AuditEvent.ALLOWED, null, 1024L, 0L),
                new AuditEvent(T.plusSeconds(2), "dns", "evil\u001b[2J.test", null, AuditEvent.DENIED, "A NXDOMAIN", null, null),
                new AuditEvent(T.plusSeconds(3), "firewall", "10.0.0.9", 22, AuditEvent.DENIED, "dropped", null, null));

        String text = AuditSummary.text(events, new AuditChain(4, 0, null, "ab12"), "audit.jsonl");

        assertEquals("""
                Audit log: audit.jsonl
                  4 lines, 2026-12-07T10:00:00Z to 2026-12-07T10:00:03Z
                  chain: intact (each line carries the SHA-256 of the line before it; the last line's is ab12)
                Decisions by source:
                  dns: denied 1
                  firewall: denied 1
                  proxy: allowed 2
                Reached (allowed), 1 destination:
                  registry.npmjs.org:443  2 (proxy 2), 3k sent, 1m received
                Refused or cut off, 2 destinations:
                  evil\\x1b[2J.test  1 (dns 1)
                  10.0.0.9:22  1 (firewall 1)
                """, text);
        assertFalse(text.contains("\u001b"));
    }

    @Test
    void howTheCageStartedAndEndedIsToldAndCountsAsNoDestination() {
        List<AuditEvent> events = List.of(
                new AuditEvent(T, "cage", null, null, "started", "cage c started from image sha256:abc; network none", null, null),
                new AuditEvent(T.plusSeconds(9), "cage", null, null, "signalled", "cage c ended with exit code 137 "
                        + "(killed by signal 9)\u001b[2J", null, null));

        String text = AuditSummary.text(events, new AuditChain(2, 0, null, "ab12"), "audit.jsonl");

        assertTrue(text.endsWith("""
                The cage (how it started and ended):
                  2026-12-07T10:00:00Z started: cage c started from image sha256:abc; network none
                  2026-12-07T10:00:09Z signalled: cage c ended with exit code 137 (killed by signal 9)\\x1b[2J
                """), text);
    }

    @Test
    void aBrokenChainIsSaidWithItsLine() {
        String text = AuditSummary.text(List.of(), new AuditChain(9, 4, "not an audit event", null), "audit.jsonl");

        assertTrue(text.contains("chain: broken at line 4: not an audit event"), text);
    }
}
