package dev.claudecage.runtime;

import dev.claudecage.config.NetworkMode;
import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Issue 18: the trail's first and last lines about the cage itself, for every way it can end. */
class CageTrailTest {

    private static final Instant T = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void theFirstLineNamesTheImageThePolicyRecordAndTheNetwork() {
        AuditEvent line = CageTrail.started(T, "fix", NetworkMode.NONE, "sha256:abc", null, "0123");

        assertEquals("cage fix started from image sha256:abc; policy record sha256:0123; network none", line.reason());
        assertEquals(CageTrail.STARTED, line.decision());
        assertEquals(CageTrail.SOURCE, line.source());
        assertNull(line.destination(), "a report would count a destination as a host reached or refused");
    }

    @Test
    void aRootfsHasNoImage() {
        assertEquals("cage run-1 started from root file system /srv/root; policy record sha256:4567; network filtered",
                CageTrail.started(T, "run-1", NetworkMode.FILTERED, null, "/srv/root", "4567").reason());
    }

    @Test
    void eachEndingIsToldApart() {
        assertEnding(CageTrail.EXITED, "cage c exited with code 0", new CageTrail.Ending(0, false, null));
        assertEnding(CageTrail.EXITED, "cage c exited with code 3", new CageTrail.Ending(3, false, null));
        assertEnding(CageTrail.SIGNALLED, "cage c ended with exit code 137 (killed by signal 9)",
                new CageTrail.Ending(137, false, null));
        assertEnding(CageTrail.STOPPED, "cage c was stopped by the user; exit code 143 (killed by signal 15)",
                new CageTrail.Ending(143, true, null));
        assertEnding(CageTrail.FAILED, "cage c ended with exit code 127: exec: \"nope\": executable file not found",
                new CageTrail.Ending(127, false, "exec: \"nope\": executable file not found"));
        assertEnding(CageTrail.FAILED, "cage c failed before it gave an exit code: the runtime crashed",
                CageTrail.Ending.failed("the runtime crashed"));
    }

    private static void assertEnding(String decision, String reason, CageTrail.Ending ending) {
        AuditEvent line = CageTrail.ended(T, "c", ending);
        assertEquals(reason, line.reason());
        assertEquals(decision, line.decision());
    }
}
