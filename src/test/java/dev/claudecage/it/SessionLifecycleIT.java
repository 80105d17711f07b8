package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Named sessions with real runc: start, attach and detach on a real pty, shell, status, logs,
 * stop, start again with the home intact, destroy; each test ends with nothing left on the host.
 */
@ExtendWith(CleanSessionHost.class)
class SessionLifecycleIT {

    private static final Duration SHORT = Duration.ofSeconds(20);

    static JsonNode status(String name) throws Exception {
        CageHarness.Result result = cage("status", "--json", name);
        assertEquals(0, result.exitCode(), result.toString());
        return Json.mapper().readTree(result.stdout());
    }

    static String state(String name) throws Exception {
        CageHarness.Result result = cage("list", "--json");
        assertEquals(0, result.exitCode(), result.toString());
        for (JsonNode session : Json.mapper().readTree(result.stdout())) {
            if (session.path("name").asText().equals(name)) {
                return session.path("state").asText();
            }
        }
        return "absent";
    }

    /** {@code runc state} of a container under claude-cage's state root. */
    private static JsonNode runtimeState(String containerId) throws Exception {
        Process runc = new ProcessBuilder("runc", "--root", "/run/claude-cage/runtime/runc", "state", containerId)
                .redirectErrorStream(true).start();
        String output = new String(runc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(runc.waitFor(20, TimeUnit.SECONDS), "runc state did not end");
        assertEquals(0, runc.exitValue(), output);
        return Json.mapper().readTree(output);
    }

    @Test
    void startAttachedDetachAttachAgainAndExit() throws Exception {
        try (CageHarness.Terminal terminal = CageHarness.terminal(List.of("start", "--name", "it-attach", "--rootfs",
                ROOTFS.toString(), "--network", "none", "--", "bash"), 40, 100)) {
            terminal.await("claude@claude-cage", SHORT);
            terminal.type("stty size; echo size-$((20+22))\r");
            terminal.await("40 100", SHORT);
            terminal.await("size-42", SHORT);
            terminal.type("\u0010\u0011");
            terminal.await("[detached from it-attach", SHORT);
            assertEquals(0, terminal.awaitExit(SHORT), terminal.screen());
        }
        assertEquals("running", state("it-attach"));

        try (CageHarness.Terminal terminal = CageHarness.terminal(List.of("attach", "it-attach"), 50, 120)) {
            // The recent output is replayed, and the cage's terminal takes the new window's size.
            terminal.await("size-42", SHORT);
            terminal.type("stty size\r");
            terminal.await("50 120", SHORT);
            // A lone Ctrl-P (inserted literally with Ctrl-V) is passed on, not taken for the detach sequence.
            terminal.type("echo a\u0016\u0010b | od -c | head -1; exit 5\r");
            terminal.await("020", SHORT);
            terminal.await("[session it-attach exited(5)]", SHORT);
            assertEquals(5, terminal.awaitExit(SHORT), terminal.screen());
        }
        assertEquals("exited(5)", state("it-attach"));
        assertTrue(cage("logs", "it-attach").stdout().contains("size-42"));
        CageHarness.Result attachEnded = cage("attach", "it-attach");
        assertEquals(1, attachEnded.exitCode(), attachEnded.toString());
        assertTrue(attachEnded.stderr().contains("session it-attach is exited(5), not running"), attachEnded.toString());
        assertEquals(0, cage("destroy", "it-attach").exitCode());
        assertEquals("absent", state("it-attach"));
    }

    @Test
    void detachedSessionShellStatusLogsStopStartAgainAndDestroy(@TempDir Path workspace) throws Exception {
        Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxrwxrwx"));
        // The cage's own ids own it, as a checkout of host uid 1000 would be: never root's (issue 14, attack 4).
        Files.setAttribute(workspace, "unix:uid", 1000);
        Files.setAttribute(workspace, "unix:gid", 1000);
        Files.writeString(workspace.resolve("keep.txt"), "mine");
        long started = System.nanoTime();
        CageHarness.Result start = cage("start", "--detach", "--name", "it-life", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--mount", workspace + ":/workspace", "--",
                "sh", "-c", "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done");
        long startMillis = (System.nanoTime() - started) / 1_000_000;
        assertEquals(0, start.exitCode(), start.toString());
        assertEquals("it-life\n", start.stdout());
        System.out.println("start --detach took " + startMillis + " ms");

        // A shell in the cage has the cage's walls and user, and sees the workspace and the home.
        CageHarness.Result shell = cage("shell", "it-life", "--", "sh", "-c",
                "grep -E '^(Seccomp|NoNewPrivs|CapEff|CapPrm|CapBnd):' /proc/self/status; id -u; "
                        + "echo from-shell > /workspace/from-shell.txt; echo home-file > $HOME/persisted.txt; hostname");
        assertEquals(0, shell.exitCode(), shell.toString());
        for (String wall : List.of("Seccomp:\t2", "NoNewPrivs:\t1", "CapEff:\t0000000000000000",
                "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000", "\n1000\n", "claude-cage")) {
            assertTrue(shell.stdout().contains(wall), "missing '" + wall + "' in: " + shell.stdout());
        }
        assertEquals("from-shell\n", Files.readString(workspace.resolve("from-shell.txt")));
        assertEquals(7, cage("shell", "it-life", "--", "sh", "-c", "exit 7").exitCode());

        // Status: numbers from the live cgroups, and they move: ten sleeping children add ten processes.
        JsonNode status = status("it-life");
        assertEquals("running", status.path("state").asText());
        assertEquals(ROOTFS.toString(), status.path("rootfs").asText());
        assertEquals("none", status.path("network").asText());
        assertEquals("cli", status.path("mode").asText());
        assertTrue(status.path("mounts").toString().contains(workspace + ":/workspace"), status.toString());
        assertTrue(status.path("cagePid").asLong() > 1, status.toString());
        assertTrue(status.path("supervisorPid").asLong() > 1, status.toString());
        // What status read from the runtime's state files is what the runtime itself says of the cage.
        JsonNode runtimeState = runtimeState(status.path("containerId").asText());
        assertEquals("running", runtimeState.path("status").asText(), runtimeState.toString());
        assertEquals(runtimeState.path("pid").asLong(), status.path("cagePid").asLong(), status.toString());
        long pidsBefore = status.path("resources").path("pids").asLong();
        assertTrue(pidsBefore >= 1, status.toString());
        assertTrue(status.path("resources").path("memoryBytes").asLong() > 0, status.toString());
        assertEquals(4L << 30, status.path("resources").path("memoryLimitBytes").asLong(), status.toString());
        assertEquals(1024, status.path("resources").path("pidsLimit").asLong(), status.toString());
        assertEquals(0, cage("shell", "it-life", "--", "sh", "-c",
                "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 300 </dev/null >/dev/null 2>&1 & done").exitCode());
        long pidsAfter = status("it-life").path("resources").path("pids").asLong();
        assertTrue(pidsAfter >= pidsBefore + 10, "pids did not move: " + pidsBefore + " -> " + pidsAfter);
        CageHarness.Result text = cage("status", "it-life");
        assertTrue(text.stdout().contains("processes:") && text.stdout().contains("of 1024"), text.toString());

        // Logs: what the cage printed, followed until the session ends; the evidence trail, with --network none
        // too, has its first line (issue 18: before, a session without a network had no audit log at all).
        assertTrue(cage("logs", "it-life").stdout().contains("tick-1\r\n"));
        CageHarness.Result audit = cage("logs", "--audit", "it-life");
        assertEquals(0, audit.exitCode(), audit.toString());
        assertTrue(audit.stdout().contains("\"decision\":\"started\"") && audit.stdout().contains("; network none"),
                audit.toString());
        Process follow = CageHarness.start(List.of("logs", "-f", "--since", "1s", "it-life"), Map.of());
        var followed = new java.util.concurrent.CompletableFuture<String>();
        Thread reader = new Thread(() -> {
            try {
                followed.complete(new String(follow.getInputStream().readAllBytes()));
            } catch (java.io.IOException e) {
                followed.completeExceptionally(e);
            }
        });
        reader.start();
        Thread.sleep(1500);
        long stopStarted = System.nanoTime();
        CageHarness.Result stop = cage("stop", "--timeout", "1", "it-life");
        assertEquals(0, stop.exitCode(), stop.toString());
        System.out.println("stop --timeout 1 took " + (System.nanoTime() - stopStarted) / 1_000_000 + " ms");
        assertTrue(follow.waitFor(10, TimeUnit.SECONDS), "logs -f did not end with the session");
        String tail = followed.get(5, TimeUnit.SECONDS);
        assertFalse(tail.contains("tick-1\r\n"), "--since 1s printed the beginning");
        assertTrue(tail.matches("(?s).*tick-\\d+\r\n.*"), "logs -f printed no new output: " + tail);
        assertEquals("stopped", state("it-life"));
        assertEquals(List.of("session folder " + CageHarness.SESSION_RUN.resolve("it-life"),
                "session folder " + CageHarness.SESSION_DATA.resolve("it-life")), CageHarness.sessionLeftovers(),
                "a stopped session keeps only its folders");

        // Started again: same settings, and the home kept what the cage wrote in it.
        CageHarness.Result again = cage("start", "--detach", "--name", "it-life");
        assertEquals(0, again.exitCode(), again.toString());
        CageHarness.Result home = cage("shell", "it-life", "--", "cat", "/home/claude/persisted.txt");
        assertEquals("home-file\n", home.stdout(), home.toString());
        CageHarness.Result changed = cage("start", "--detach", "--name", "it-life", "--memory", "1g");
        assertEquals(2, changed.exitCode(), changed.toString());
        CageHarness.Result running = cage("start", "--detach", "--name", "it-life");
        assertEquals(1, running.exitCode(), running.toString());
        assertTrue(running.stderr().contains("already"), running.toString());

        // Destroy: the session is gone, the workspace untouched.
        CageHarness.Result destroy = cage("destroy", "--timeout", "1", "it-life");
        assertEquals(0, destroy.exitCode(), destroy.toString());
        assertEquals("absent", state("it-life"));
        assertFalse(Files.exists(CageHarness.SESSION_DATA.resolve("it-life")));
        assertEquals("mine", Files.readString(workspace.resolve("keep.txt")));
        assertEquals("from-shell\n", Files.readString(workspace.resolve("from-shell.txt")));
    }

    @Test
    void anEphemeralSessionLeavesNothingAfterItStops() throws Exception {
        CageHarness.Result start = cage("start", "-d", "--ephemeral", "--name", "it-eph", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--", "sh", "-c", "echo secret-output; exec sleep 300");
        assertEquals(0, start.exitCode(), start.toString());
        assertTrue(cage("logs", "it-eph").stdout().contains("secret-output") || waitForLog("it-eph", "secret-output"));
        assertFalse(Files.exists(CageHarness.SESSION_DATA.resolve("it-eph/logs")), "an ephemeral session logs to disk");
        assertFalse(Files.exists(CageHarness.SESSION_DATA.resolve("it-eph/home")), "an ephemeral session has a home on disk");
        assertEquals(0, cage("stop", "--timeout", "0", "it-eph").exitCode());
        assertEquals("absent", state("it-eph"));
        assertFalse(Files.exists(CageHarness.SESSION_DATA.resolve("it-eph")));
        assertFalse(Files.exists(CageHarness.SESSION_RUN.resolve("it-eph")));
    }

    private static boolean waitForLog(String name, String text) throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            if (cage("logs", name).stdout().contains(text)) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    @Test
    void badInputIsExitCode2AndNamesWhatIsWrong() {
        for (List<String> bad : List.of(
                List.of("start", "-d", "--name", "../etc", "--rootfs", ROOTFS.toString(), "--network", "none", "--", "true"),
                List.of("start", "-d", "--name", "Upper", "--rootfs", ROOTFS.toString(), "--network", "none", "--", "true"),
                List.of("start", "-d", "--name", "it-bad", "--memory", "4q", "--rootfs", ROOTFS.toString(), "--", "true"),
                List.of("start", "-d", "--name", "it-bad", "--mode", "desktop", "--rootfs", ROOTFS.toString(),
                        "--network", "none", "--", "true"),
                List.of("attach", "it-no-such-session"),
                List.of("status", "it-no-such-session"),
                List.of("logs", "--since", "5x", "it-no-such-session"),
                List.of("destroy", "it-no-such-session"))) {
            CageHarness.Result result = cage(bad.toArray(String[]::new));
            assertEquals(2, result.exitCode(), bad + " -> " + result);
            assertTrue(result.stderr().startsWith("claude-cage: "), result.toString());
        }
    }
}
