package dev.claudecage.net;

import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 18, the evidence trail: each line carries the SHA-256 of the one before it, and report --check reads it. */
class AuditChainTest {

    @TempDir
    Path dir;

    private static AuditEvent event(String destination) {
        return new AuditEvent(Instant.parse("2026-12-07T10:00:00Z"), "proxy", destination, 443, AuditEvent.DENIED,
                destination + EgressPolicy.NOT_ALLOWED, null, null);
    }

    /** A log of five lines written over two opens, as a session's is over two starts. */
    private Path writtenLog() {
        Path audit = dir.resolve("audit.jsonl");
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            List.of("one.example", "two.example", "three.example").forEach(name -> log.record(event(name)));
        }
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            List.of("four.example", "five.example").forEach(name -> log.record(event(name)));
        }
        return audit;
    }

    private static List<String> lines(Path file) throws Exception {
        return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    @Test
    void aLogWrittenOverTwoStartsIsOneChain() throws Exception {
        Path audit = writtenLog();

        AuditChain chain = AuditChain.check(audit);

        assertTrue(chain.intact(), chain.toString());
        assertEquals(5, chain.lines());
        List<AuditEvent> events = AuditLog.read(audit);
        assertNull(events.get(0).previousSha256());
        for (int i = 1; i < events.size(); i++) {
            assertEquals(AuditEvent.sha256Hex(lines(audit).get(i - 1)), events.get(i).previousSha256());
        }
        assertEquals(AuditEvent.sha256Hex(lines(audit).get(4)), chain.lastSha256());
    }

    @Test
    void oneEditedLineBreaksTheChainRightAfterIt() throws Exception {
        Path audit = writtenLog();
        List<String> lines = lines(audit);
        lines.set(2, lines.get(2).replace("three.example", "harmless.example"));
        Files.write(audit, lines);

        AuditChain chain = AuditChain.check(audit);

        assertFalse(chain.intact());
        assertEquals(4, chain.firstBroken());
        assertTrue(chain.problem().contains("not that of line 3"), chain.problem());
    }

    @Test
    void linesCutFromTheStartOrWrittenWithoutAChainBreakIt() throws Exception {
        Path audit = writtenLog();
        List<String> lines = lines(audit);
        Files.write(audit, lines.subList(1, lines.size()));
        AuditChain cut = AuditChain.check(audit);
        assertEquals(1, cut.firstBroken(), cut.toString());
        assertTrue(cut.problem().contains("removed from its start"), cut.problem());

        List<String> unchained = new ArrayList<>();
        for (AuditEvent event : AuditLog.read(writtenLog())) {
            unchained.add(Json.writeLine(event.after(null)));
        }
        Files.write(audit, unchained);
        AuditChain stripped = AuditChain.check(audit);
        assertEquals(2, stripped.firstBroken(), stripped.toString());
    }

    @Test
    void aWholeChainRewrittenByTheCageIsCaughtOnlyByTheLastLineKeptOutside() throws Exception {
        Path audit = writtenLog();
        String printedByRun = AuditChain.check(audit).lastSha256();
        assertTrue(AuditChain.check(audit).endingWith(printedByRun).intact());
        // What a cage that can write the folder can do: drop a line and chain the rest again.
        List<String> rewritten = new ArrayList<>();
        String previous = null;
        for (AuditEvent event : AuditLog.read(audit)) {
            if (!"three.example".equals(event.destination())) {
                String line = Json.writeLine(event.after(previous));
                rewritten.add(line);
                previous = AuditEvent.sha256Hex(line);
            }
        }
        Files.write(audit, rewritten);

        // The chain alone holds (the control: this is why run prints the last line's SHA-256)...
        assertTrue(AuditChain.check(audit).intact());
        // ...and the anchor kept outside the cage does not.
        AuditChain anchored = AuditChain.check(audit).endingWith(printedByRun);
        assertFalse(anchored.intact());
        assertTrue(anchored.problem().contains("rewritten"), anchored.problem());
    }

    @Test
    void aLastLineACrashLeftUnfinishedIsEndedAndTheChainGoesOn() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            log.record(event("one.example"));
        }
        String whole = Files.readString(audit);
        Files.writeString(audit, whole.substring(0, whole.length() - 1));
        try (AuditLog log = AuditLog.open(audit, List.of())) {
            log.record(event("two.example"));
        }

        assertTrue(AuditChain.check(audit).intact(), Files.readString(audit));
        assertEquals(2, AuditLog.read(audit).size());
        Files.writeString(audit, "{}\n", StandardOpenOption.APPEND);
        assertEquals(3, AuditChain.check(audit).firstBroken());
    }
}
