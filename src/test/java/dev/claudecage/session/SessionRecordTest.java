package dev.claudecage.session;

import dev.claudecage.json.Json;
import dev.claudecage.net.gateway.PlaceholderKey;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionRecordTest {

    private static SessionRecord created(String name) {
        return SessionRecord.create(SessionName.of(name), Map.of(), List.of("claude"), false, true, Instant.EPOCH);
    }

    @Test
    void aSessionKeepsOnePlaceholderKeyThroughEveryRunAndRecord() {
        SessionRecord record = created("a");
        PlaceholderKey key = record.placeholder();
        SessionRecord later = record.starting("s-a-1", null, "boot", Instant.EPOCH, 24, 80)
                .withStatus(SessionStatus.RUNNING).ended(SessionStatus.STOPPED, 0, null, Instant.EPOCH)
                .starting("s-a-2", null, "boot", Instant.EPOCH, 24, 80);
        assertEquals(key, later.placeholder());
        assertEquals(key, Json.read(Json.write(later), SessionRecord.class).placeholder(), "the record on disk keeps it");
        assertNotEquals(key, created("b").placeholder(), "each session has its own");
    }

    @Test
    void aRecordOfAnOlderClaudeCageGetsOneAtItsNextStartAndKeepsIt() {
        String older = Json.write(created("a")).replaceAll("\\s*\"placeholderKey\" : \"[^\"]*\",?", "");
        SessionRecord record = Json.read(older, SessionRecord.class);
        assertNull(record.placeholderKey(), older);
        SessionRecord started = record.starting("s-a-1", null, "boot", Instant.EPOCH, 24, 80);
        assertTrue(started.placeholderKey().startsWith(PlaceholderKey.PREFIX));
        assertEquals(started.placeholder(), started.ended(SessionStatus.STOPPED, 0, null, Instant.EPOCH)
                .starting("s-a-2", null, "boot", Instant.EPOCH, 24, 80).placeholder());
    }
}
