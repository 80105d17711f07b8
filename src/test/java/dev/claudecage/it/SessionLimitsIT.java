package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** max_sessions under concurrent starts, and many start/destroy cycles, with real runc. */
@ExtendWith(CleanSessionHost.class)
class SessionLimitsIT {

    @BeforeEach
    void noSessionRuns() throws Exception {
        CageHarness.Result list = cage("list", "--json");
        for (JsonNode session : Json.mapper().readTree(list.stdout())) {
            assertTrue(!session.path("state").asText().equals("running"),
                    "a session runs on this host and would count against max_sessions: " + session);
        }
    }

    @Test
    void tenConcurrentStartsWithMaxSessionsFiveGiveExactlyFive() throws Exception {
        List<Process> starts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            starts.add(CageHarness.start(List.of("start", "-d", "--name", "it-max-" + i, "--rootfs", ROOTFS.toString(),
                    "--network", "none", "--", "sleep", "1000"), Map.of("CLAUDE_CAGE_MAX_SESSIONS", "5")));
        }
        int started = 0;
        List<String> refusals = new ArrayList<>();
        for (Process start : starts) {
            CageHarness.Result result = CageHarness.waitFor(start, "", Duration.ofMinutes(2));
            if (result.exitCode() == 0) {
                started++;
            } else {
                assertEquals(1, result.exitCode(), result.toString());
                refusals.add(result.stderr());
            }
        }
        assertEquals(5, started, "refusals: " + refusals);
        assertEquals(5, refusals.size());
        for (String refusal : refusals) {
            assertTrue(refusal.contains("max_sessions is 5 and 5 sessions are running"), refusal);
            assertTrue(refusal.contains("raise max_sessions"), refusal);
        }
        // Every record is whole, and the five that run are the five listed as running.
        int running = 0;
        try (Stream<Path> records = Files.list(CageHarness.SESSION_DATA)) {
            for (Path dir : records.filter(dir -> dir.getFileName().toString().startsWith("it-max-")).toList()) {
                JsonNode record = Json.mapper().readTree(Files.readString(dir.resolve("state.json")));
                assertEquals(dir.getFileName().toString(), record.path("name").asText());
                running += record.path("status").asText().equals("RUNNING") ? 1 : 0;
            }
        }
        assertEquals(5, running);
        CageHarness.Result list = cage("list", "--json");
        long listedRunning = 0;
        for (JsonNode session : Json.mapper().readTree(list.stdout())) {
            listedRunning += session.path("state").asText().equals("running") ? 1 : 0;
        }
        assertEquals(5, listedRunning, list.stdout());
    }

    @Test
    void fiftyStartDestroyCyclesLeaveNothingBehind() throws Exception {
        long began = System.nanoTime();
        for (int i = 0; i < 50; i++) {
            CageHarness.Result start = cage("start", "-d", "--name", "it-cycle", "--rootfs", ROOTFS.toString(),
                    "--network", "none", "--", "sleep", "1000");
            assertEquals(0, start.exitCode(), "cycle " + i + ": " + start);
            CageHarness.Result destroy = cage("destroy", "--timeout", "0", "it-cycle");
            assertEquals(0, destroy.exitCode(), "cycle " + i + ": " + destroy);
        }
        long seconds = (System.nanoTime() - began) / 1_000_000_000;
        System.out.println("50 start/destroy cycles took " + seconds + " s");
        assertEquals(List.of(), CageHarness.sessionLeftovers());
        assertTrue(seconds < 150, "50 cycles took " + seconds + " s");
    }
}
