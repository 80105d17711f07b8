package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sessions under faults: kill -9 of the supervisor, of the runtime, of the cage's main process,
 * and a wipe of /run/claude-cage. After each, list tells the truth, and destroy or gc leaves
 * nothing behind: no runtime state, mount, cgroup, namespace, link, nft table or process.
 */
@ExtendWith(CleanSessionHost.class)
class SessionFaultIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static JsonNode startSleeping(String name) throws Exception {
        CageHarness.Result start = cage("start", "-d", "--name", name, "--rootfs", ROOTFS.toString(), "--network", "none",
                "--", "sh", "-c", "sleep 1000 & exec sleep 1000");
        assertEquals(0, start.exitCode(), start.toString());
        return SessionLifecycleIT.status(name);
    }

    private static JsonNode listed(String name) throws Exception {
        CageHarness.Result list = cage("list", "--json");
        assertEquals(0, list.exitCode(), list.toString());
        for (JsonNode session : Json.mapper().readTree(list.stdout())) {
            if (session.path("name").asText().equals(name)) {
                return session;
            }
        }
        throw new AssertionError(name + " is not listed: " + list.stdout());
    }

    private static void kill9(long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -9 " + pid);
    }

    private static void awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("process " + pid + " is still alive");
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the session is listed with {@code state}. */
    private static JsonNode awaitState(String name, String state) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode session = listed(name);
        while (!session.path("state").asText().equals(state)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " did not become " + state + ": " + session);
            }
            Thread.sleep(100);
            session = listed(name);
        }
        return session;
    }

    /** The runtime's own process for a container: runc run --bundle ... ID. */
    private static long runtimeProcess(String containerId) {
        return ProcessHandle.allProcesses()
                .filter(process -> {
                    String line = CageHarness.commandLine(process.pid());
                    return line.contains("--root /run/claude-cage/runtime/") && line.contains(" run ")
                            && line.endsWith(" " + containerId);
                })
                .map(ProcessHandle::pid).findFirst()
                .orElseThrow(() -> new AssertionError("no runtime process for " + containerId));
    }

    private static List<String> onlyTheFolders(String name) {
        return List.of("session folder " + CageHarness.SESSION_RUN.resolve(name),
                "session folder " + CageHarness.SESSION_DATA.resolve(name));
    }

    @Test
    void supervisorKilledLeavesAnOrphanThatListShowsAndDestroyRemoves() throws Exception {
        JsonNode status = startSleeping("it-fault-sup");
        String containerId = status.path("containerId").asText();
        kill9(status.path("supervisorPid").asLong());
        awaitGone(status.path("supervisorPid").asLong());

        JsonNode session = listed("it-fault-sup");
        assertEquals("crashed", session.path("state").asText(), session.toString());
        assertTrue(session.path("orphaned").asBoolean(), session.toString());
        assertTrue(session.path("problem").asText().contains("died"), session.toString());
        assertTrue(CageHarness.sessionLeftovers().stream().anyMatch(item -> item.contains(containerId)),
                "the fault left nothing to clean up: the test proves nothing");

        CageHarness.Result destroy = cage("destroy", "it-fault-sup");
        assertEquals(0, destroy.exitCode(), destroy.toString());
        assertEquals(List.of(), CageHarness.sessionLeftovers());
    }

    @Test
    void supervisorKilledThenGcCleansUpAndTheSessionCanStartAgain() throws Exception {
        JsonNode status = startSleeping("it-fault-gc");
        kill9(status.path("supervisorPid").asLong());
        awaitGone(status.path("supervisorPid").asLong());
        assertEquals("crashed", listed("it-fault-gc").path("state").asText());

        CageHarness.Result gc = cage("gc");
        assertEquals(0, gc.exitCode(), gc.toString());
        assertTrue(gc.stdout().contains("container " + status.path("containerId").asText()), gc.toString());
        assertEquals(onlyTheFolders("it-fault-gc"), CageHarness.sessionLeftovers());
        JsonNode after = listed("it-fault-gc");
        assertEquals("crashed", after.path("state").asText());
        assertFalse(after.path("orphaned").asBoolean(), after.toString());
        assertEquals("nothing to clean\n", cage("gc").stdout());

        CageHarness.Result again = cage("start", "-d", "--name", "it-fault-gc");
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals("running", listed("it-fault-gc").path("state").asText());
    }

    @Test
    void supervisorKilledWithFilteredNetworkingLeavesNoNetworkBehind() throws Exception {
        CageHarness.Result start = cage("start", "-d", "--name", "it-fault-net", "--rootfs", ROOTFS.toString(),
                "--network", "filtered", "--", "sleep", "1000");
        org.junit.jupiter.api.Assumptions.assumeFalse(start.exitCode() == 2 && start.stderr().contains("not available"),
                "filtered networking is not built on this version: " + start.stderr());
        assertEquals(0, start.exitCode(), start.toString());
        JsonNode status = SessionLifecycleIT.status("it-fault-net");
        String containerId = status.path("containerId").asText();
        kill9(status.path("supervisorPid").asLong());
        awaitGone(status.path("supervisorPid").asLong());
        List<String> left = CageHarness.sessionLeftovers();
        assertTrue(left.stream().anyMatch(item -> item.startsWith("netns claude-cage-" + containerId)), left.toString());
        assertTrue(left.stream().anyMatch(item -> item.startsWith("nft ")), left.toString());
        assertEquals("crashed", listed("it-fault-net").path("state").asText());

        CageHarness.Result gc = cage("gc");
        assertEquals(0, gc.exitCode(), gc.toString());
        assertEquals(onlyTheFolders("it-fault-net"), CageHarness.sessionLeftovers());
    }

    @Test
    void runtimeKilledIsCleanedUpByTheSupervisor() throws Exception {
        JsonNode status = startSleeping("it-fault-rt");
        kill9(runtimeProcess(status.path("containerId").asText()));
        awaitState("it-fault-rt", "exited(137)");
        awaitGone(status.path("supervisorPid").asLong());
        assertEquals(onlyTheFolders("it-fault-rt"), CageHarness.sessionLeftovers());
    }

    @Test
    void cageMainProcessKilledEndsTheSessionCleanly() throws Exception {
        JsonNode status = startSleeping("it-fault-main");
        kill9(status.path("cagePid").asLong());
        awaitState("it-fault-main", "exited(137)");
        awaitGone(status.path("supervisorPid").asLong());
        assertEquals(onlyTheFolders("it-fault-main"), CageHarness.sessionLeftovers());
    }

    @Test
    void aRebootLikeWipeOfRunIsSeenAndCleanedUp() throws Exception {
        JsonNode status = startSleeping("it-fault-wipe");
        kill9(status.path("supervisorPid").asLong());
        awaitGone(status.path("supervisorPid").asLong());
        wipeRun();

        JsonNode session = listed("it-fault-wipe");
        assertEquals("crashed", session.path("state").asText(), session.toString());
        assertTrue(session.path("orphaned").asBoolean(), "the cage's processes still run: " + session);

        CageHarness.Result gc = cage("gc");
        assertEquals(0, gc.exitCode(), gc.toString());
        assertEquals(onlyTheFolders("it-fault-wipe"), CageHarness.sessionLeftovers());
        assertEquals(0, cage("destroy", "it-fault-wipe").exitCode());
    }

    @Test
    void aWipeOfRunUnderALiveSupervisorStillStops() throws Exception {
        startSleeping("it-fault-live");
        wipeRun();
        JsonNode session = listed("it-fault-live");
        assertEquals("running", session.path("state").asText(), session.toString());
        assertTrue(session.path("problem").asText().contains("no running container"), session.toString());

        CageHarness.Result stop = cage("stop", "--timeout", "1", "it-fault-live");
        assertEquals(0, stop.exitCode(), stop.toString());
        assertEquals("stopped", listed("it-fault-live").path("state").asText());
        assertEquals(List.of("session folder " + CageHarness.SESSION_DATA.resolve("it-fault-live")),
                CageHarness.sessionLeftovers().stream().filter(item -> !item.contains(CageHarness.SESSION_RUN.toString()))
                        .toList());
    }

    /** What a reboot does to /run, without the reboot: everything goes but what is mounted. */
    private static void wipeRun() throws Exception {
        Process rm = new ProcessBuilder("rm", "-rf", "--one-file-system", Path.of("/run/claude-cage").toString())
                .redirectErrorStream(true).start();
        rm.getInputStream().readAllBytes();
        assertTrue(rm.waitFor(30, TimeUnit.SECONDS));
    }
}
