package dev.claudecage.session;

import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The health check's rules, as Docker applies them: the command, the defaults, the state after each check. */
class HealthMonitorTest {

    private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void theCommandIsTheExecFormOrTheScriptThroughTheImagesShell() {
        assertEquals(List.of("/bin/check", "--quick"), HealthMonitor.command(check(List.of("CMD", "/bin/check", "--quick")),
                null));
        assertEquals(List.of("/bin/sh", "-c", "curl -f http://localhost/ || exit 1"),
                HealthMonitor.command(check(List.of("CMD-SHELL", "curl -f http://localhost/ || exit 1")), null));
        assertEquals(List.of("/bin/bash", "-o", "pipefail", "-c", "true"),
                HealthMonitor.command(check(List.of("CMD-SHELL", "true")), List.of("/bin/bash", "-o", "pipefail", "-c")));
        assertEquals(List.of(), HealthMonitor.command(check(List.of("NONE")), null), "HEALTHCHECK NONE runs nothing");
        assertEquals(List.of(), HealthMonitor.command(null, null));
        assertEquals(List.of(), HealthMonitor.command(check(List.of("EXEC", "x")), null), "an unknown kind runs nothing");
    }

    @Test
    void dockersDefaultsFillWhatTheImageLeavesOut() {
        HealthMonitor.Schedule defaults = HealthMonitor.Schedule.of(check(List.of("CMD", "true")));
        assertEquals(new HealthMonitor.Schedule(Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ZERO,
                Duration.ofSeconds(5), 3), defaults);
        HealthMonitor.Schedule given = HealthMonitor.Schedule.of(new ImageConfig.Healthcheck(List.of("CMD", "true"),
                5_000_000_000L, 2_000_000_000L, 8_000_000_000L, 1_000_000_000L, 2));
        assertEquals(new HealthMonitor.Schedule(Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(8),
                Duration.ofSeconds(1), 2), given);
    }

    @Test
    void retriesFailuresInARowMakeItUnhealthyAndOneSuccessHealthy() {
        HealthMonitor.Health health = HealthMonitor.Health.STARTING;
        health = health.after(1, false, 2, NOW);
        assertEquals("starting", health.status());
        assertEquals(1, health.failingStreak());
        health = health.after(null, false, 2, NOW);
        assertEquals("unhealthy", health.status(), "a timeout is a failure too");
        health = health.after(0, false, 2, NOW);
        assertEquals(new HealthMonitor.Health("healthy", 0, NOW.toString(), 0), health);
        health = health.after(7, false, 2, NOW);
        assertEquals("healthy", health.status(), "one failure is not enough");
        assertEquals(7, health.lastExitCode());
    }

    @Test
    void failuresInTheStartPeriodDoNotCount() {
        HealthMonitor.Health health = HealthMonitor.Health.STARTING;
        for (int i = 0; i < 5; i++) {
            health = health.after(1, true, 1, NOW);
        }
        assertEquals(new HealthMonitor.Health("starting", 0, NOW.toString(), 1), health);
        assertEquals("healthy", health.after(0, true, 1, NOW).status(), "a success counts at once");
    }

    private static ImageConfig.Healthcheck check(List<String> test) {
        return new ImageConfig.Healthcheck(test, null, null, null, null, null);
    }

    /**
     * The supervisor writes health.json, and status reads it, without the object mapper: the mapper's
     * bytes and the mapper's values, a missing exit code and odd text included.
     */
    @Test
    void healthIsWrittenAndReadAsTheMapperDoesWithoutIt() {
        for (HealthMonitor.Health health : List.of(HealthMonitor.Health.STARTING,
                new HealthMonitor.Health("healthy", 0, NOW.toString(), 0),
                new HealthMonitor.Health("unhealthy", 7, NOW.toString(), -1),
                new HealthMonitor.Health("st\u0000\"a\\rt\u00e9\u2028", Integer.MAX_VALUE, null, null))) {
            String written = Json.write(health);
            assertEquals(written, Json.writePlainRecord(health));
            assertEquals(Json.read(written, HealthMonitor.Health.class), Json.readPlainRecord(written, HealthMonitor.Health.class));
        }
        String withoutCode = "{\"failingStreak\" : 2, \"status\" : \"unhealthy\"}";
        assertEquals(Json.read(withoutCode, HealthMonitor.Health.class),
                Json.readPlainRecord(withoutCode, HealthMonitor.Health.class));
    }
}
