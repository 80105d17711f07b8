package dev.claudecage.session;

import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The streaming reader of state.json reads what Jackson's object mapper read, and refuses what it refused. */
class SessionRecordReaderTest {

    private static final Instant NOW = Instant.parse("2026-12-07T16:00:00Z");

    private static SessionRecord created() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("memory", "4g");
        config.put("cpus", 2);
        config.put("persist", true);
        config.put("allowed_hosts", List.of("api.anthropic.com", "preset:npm"));
        config.put("mounts", List.of());
        config.put("nested", Map.of("list", List.of(1, 2.5, false), "big", 12345678901L));
        return SessionRecord.create(SessionName.of("work-1"), config, List.of("sh", "-c", "echo \"hi\" \u00e9\u0001"),
                false, true, NOW);
    }

    private static void assertReadAsTheMapperReads(SessionRecord record) throws IOException {
        String json = Json.write(record);
        assertEquals(Json.read(json, SessionRecord.class), SessionRecordReader.read(json), json);
    }

    @Test
    void readsEveryStageOfASessionsLifeAsTheMapperDoes() throws IOException {
        SessionRecord created = created();
        SessionRecord starting = created.starting("cage-abc", new ProcessIdentity(42, 4200), "boot-1", NOW, 40, 120);
        SessionRecord running = starting.supervisedBy(new ProcessIdentity(43, 4300)).withStatus(SessionStatus.RUNNING);
        SessionRecord crashed = running.ended(SessionStatus.CRASHED, 137, "killed by signal 9", NOW);
        SessionRecord ephemeral = SessionRecord.create(SessionName.of("e"), Map.of(), List.of("true"), true, false, NOW);

        for (SessionRecord record : List.of(created, starting, running, crashed, ephemeral)) {
            assertReadAsTheMapperReads(record);
        }
    }

    @Test
    void readsTheRecordOfAnOlderVersionWithoutItsLaterFields() throws IOException {
        String json = "{\"command\":[\"true\"],\"name\":\"old\",\"status\":\"STOPPED\",\"version\":1}";

        assertEquals(Json.read(json, SessionRecord.class), SessionRecordReader.read(json));
    }

    @Test
    void refusesWhatTheMapperRefused() {
        List<String> refused = List.of(
                "",
                "[]",
                "{\"command\":[\"true\"],\"name\":\"x\",\"status\":\"STOPPED\",\"surprise\":1}",
                "{\"command\":[\"true\"],\"status\":\"STOPPED\"}",
                "{\"command\":[\"true\"],\"name\":\"x\"}",
                "{\"name\":\"x\",\"status\":\"STOPPED\"}",
                "{\"command\":[\"true\"],\"name\":\"x\",\"status\":\"SLEEPING\"}",
                "{\"command\":[\"true\"],\"name\":\"x\",\"status\":\"STOPPED\",\"rows\":\"many\"}",
                "{\"command\":[\"true\"],\"name\":\"x\",\"status\":\"STOPPED\",\"persist\":\"yes\"}",
                "{\"command\":[\"true\"],\"name\":\"x\",\"status\":\"STOPPED\",\"name\":[]}",
                "{\"command\":[\"true\"],\"name\":\"x\",\"status\":\"STOPPED\",\"supervisor\":{\"pid\":1,\"uid\":0}}",
                "{\"command\":[\"true\"],\"name\":\"x\",\"status\":\"STOPPED\"");
        for (String json : refused) {
            assertThrows(UncheckedIOException.class, () -> Json.read(json, SessionRecord.class), "the mapper: " + json);
            assertThrows(IOException.class, () -> SessionRecordReader.read(json), "the reader: " + json);
        }
    }
}
