package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Docker user's day with real cages: {@code run -d} with {@code -v}, {@code -e}, {@code --env-file}
 * and {@code -w}; {@code ps}, {@code exec}, {@code inspect} and {@code rm} on the session it made;
 * and the same flags on a foreground {@code run}.
 */
@ExtendWith(CleanSessionHost.class)
class DockerHabitsIT {

    @TempDir
    Path dir;

    @Test
    void runDetachedThenPsExecInspectAndRm() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work/src"));
        Files.writeString(work.resolve("marker"), "from the host\n");
        Path envFile = Files.writeString(dir.resolve("cage.env"), "# as docker reads it\nFROM_FILE=file value\n");
        CageHarness.Result started = CageHarness.launch(List.of("run", "-d", "--name", "it-habits", "--rootfs",
                        ROOTFS.toString(), "--network", "none", "--mount-owner", "1000", "-v", dir.resolve("work") + ":/workspace:ro",
                        "-e", "GREETING=hi", "-e", "FROM_LAUNCHER", "--env-file", envFile.toString(), "-w", "/workspace/src",
                        "--", "sh", "-c", "exec sleep 300"), "", Map.of("FROM_LAUNCHER", "passed on"),
                Duration.ofMinutes(2));
        assertEquals(0, started.exitCode(), started.toString());
        assertEquals("it-habits\n", started.stdout(), started.toString());

        CageHarness.Result ps = cage("ps");
        assertEquals(0, ps.exitCode(), ps.toString());
        assertTrue(ps.stdout().lines().anyMatch(line -> line.startsWith("it-habits ") && line.contains("running")),
                ps.stdout());

        CageHarness.Result exec = cage("exec", "it-habits", "--", "sh", "-c",
                "pwd; cat marker; echo \"$GREETING|$FROM_LAUNCHER|$FROM_FILE\"");
        assertEquals(0, exec.exitCode(), exec.toString());
        assertEquals("/workspace/src\nfrom the host\nhi|passed on|file value\n", exec.stdout(), exec.toString());

        CageHarness.Result inspect = cage("inspect", "it-habits");
        CageHarness.Result status = cage("status", "--json", "it-habits");
        assertEquals(0, inspect.exitCode(), inspect.toString());
        JsonNode inspected = Json.mapper().readTree(inspect.stdout());
        JsonNode statusJson = Json.mapper().readTree(status.stdout());
        assertEquals("running", inspected.path("state").asText(), inspect.stdout());
        assertEquals(statusJson.path("name"), inspected.path("name"));
        assertEquals(statusJson.path("containerId"), inspected.path("containerId"));
        assertTrue(inspected.path("ephemeral").asBoolean(), "run -d makes an ephemeral session: " + inspect.stdout());

        CageHarness.Result rm = cage("rm", "it-habits");
        assertEquals(0, rm.exitCode(), rm.toString());
        assertEquals("it-habits\n", rm.stdout());
        assertTrue(cage("ps", "-q").stdout().lines().noneMatch("it-habits"::equals));
    }

    @Test
    void theShortFlagsWorkOnAForegroundRun() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work/sub"));
        CageHarness.Result result = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--mount-owner", "1000", "-v", dir.resolve("work") + ":/workspace:ro", "-e", "A=1", "-w", "/workspace/sub",
                "--", "sh", "-c", "pwd; echo A=$A"), "", Map.of(), Duration.ofMinutes(2));
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("/workspace/sub\nA=1\n", result.stdout(), result.toString());
        assertTrue(Files.isDirectory(work));
    }
}
