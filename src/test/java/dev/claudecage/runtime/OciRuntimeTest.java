package dev.claudecage.runtime;

import dev.claudecage.UserInputException;
import dev.claudecage.image.store.LinuxFiles;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OciRuntimeTest {

    private final OciRuntime runc = new OciRuntime(RuntimeKind.RUNC, Path.of("/usr/sbin/runc"),
            Path.of("/run/claude-cage/runtime/runc"), new ProcessRunner(false));

    @Test
    void runCommandKeepsOurStateRootAndLogsAsJson() {
        assertEquals(List.of("/usr/sbin/runc", "--root", "/run/claude-cage/runtime/runc",
                        "--log", "/run/claude-cage/runs/run-1/runtime.log", "--log-format", "json",
                        "run", "--bundle", "/run/claude-cage/runs/run-1/bundle", "run-1"),
                runc.runCommand("run-1", Path.of("/run/claude-cage/runs/run-1/bundle"),
                        new RuntimeLog(Path.of("/run/claude-cage/runs/run-1/runtime.log")), OciRuntime.RunOptions.NONE));
    }

    @Test
    void aLauncherComesBeforeTheRuntimeAndItsFlagsAfterItsGlobalOptions() {
        OciRuntime runsc = new OciRuntime(RuntimeKind.RUNSC, Path.of("/usr/bin/runsc"), Path.of("/run/claude-cage/runtime/runsc"),
                "ptrace", new ProcessRunner(false));
        assertEquals(List.of("nsenter", "--net=/run/netns/n", "/usr/bin/runsc", "--root", "/run/claude-cage/runtime/runsc",
                        "--log", "/l", "--log-format", "json", "--network=sandbox", "run", "--bundle", "/b", "c"),
                runsc.runCommand("c", Path.of("/b"), new RuntimeLog(Path.of("/l")), new OciRuntime.RunOptions(
                        List.of("nsenter", "--net=/run/netns/n"), List.of("--network=sandbox"))));
    }

    @Test
    void crunsHybridCgroupRefusalGetsItsOwnExplanation(@TempDir Path dir) throws Exception {
        OciRuntime crun = new OciRuntime(RuntimeKind.CRUN, Path.of("/usr/bin/crun"), dir, new ProcessRunner(false));
        Path log = dir.resolve("runtime.log");
        Files.writeString(log, "{\"msg\":\"cgroups in hybrid mode not supported, drop all controllers from cgroupv2\","
                + "\"level\":\"error\",\"time\":\"2026-11-28T09:16:14Z\"}\n");
        var failure = crun.explainFailure("cage x did not start", new RuntimeLog(log));
        assertTrue(failure.getMessage().startsWith("crun cannot run cages on this host"), failure.getMessage());
        assertTrue(failure.hint().contains("--runtime runc"), failure.hint());
    }

    @Test
    void runtimeLogYieldsTheLastError(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("runtime.log");
        Files.writeString(log, "{\"level\":\"warning\",\"msg\":\"w\"}\nnot json\n{\"level\":\"error\",\"msg\":\"first\"}\n"
                + "{\"level\":\"error\",\"msg\":\"last\"}\n");
        assertEquals("last", new RuntimeLog(log).lastError().orElseThrow());
        assertTrue(new RuntimeLog(dir.resolve("missing")).lastError().isEmpty());
    }

    @Test
    void unknownRuntimeNameIsBadInput() {
        assertThrows(UserInputException.class, () -> RuntimeKind.fromConfig("docker"));
        assertEquals(RuntimeKind.CRUN, RuntimeKind.fromConfig("crun"));
    }

    @Test
    void aRuncContainerWithoutItsStateFolderNeedsNoDelete(@TempDir Path dir) throws Exception {
        OciRuntime runcHere = new OciRuntime(RuntimeKind.RUNC, Path.of("/usr/sbin/runc"), dir, new ProcessRunner(false));
        assertTrue(runcHere.removedAfterItsRun("run-1"));
        Files.createDirectory(dir.resolve("run-1"));
        assertFalse(runcHere.removedAfterItsRun("run-1"), "runc still holds state for it: delete must run");
        // A link where the folder would be is not taken for its absence.
        Files.createSymbolicLink(dir.resolve("run-2"), dir.resolve("nowhere"));
        assertFalse(runcHere.removedAfterItsRun("run-2"));
        OciRuntime crun = new OciRuntime(RuntimeKind.CRUN, Path.of("/usr/bin/crun"), dir, new ProcessRunner(false));
        assertFalse(crun.removedAfterItsRun("run-3"), "crun's delete is always run");
    }

    @Test
    void aForceDeletedRunscContainersLockIsRemovedOnlyOnceItsStateIsGone(@TempDir Path dir) throws Exception {
        Path lock = Files.createFile(dir.resolve("c1_sandbox:c1.lock"));
        Path state = Files.createFile(dir.resolve("c1_sandbox:c1.state"));
        OciRuntime.removeOrphanedRunscLock(dir, "c1");
        assertTrue(Files.exists(lock), "a container whose state is still there keeps its lock");
        Files.delete(state);
        OciRuntime.removeOrphanedRunscLock(dir, "c1");
        assertFalse(Files.exists(lock));
        // A link in the lock's place is removed itself; what it points at is not touched.
        Path elsewhere = Files.createFile(dir.resolve("elsewhere"));
        Files.createSymbolicLink(dir.resolve("c2_sandbox:c2.lock"), elsewhere);
        OciRuntime.removeOrphanedRunscLock(dir, "c2");
        assertFalse(Files.exists(dir.resolve("c2_sandbox:c2.lock"), LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(elsewhere));
        // Another container's lock is not ours to remove.
        Path other = Files.createFile(dir.resolve("c3_sandbox:c3.lock"));
        OciRuntime.removeOrphanedRunscLock(dir, "c4");
        assertTrue(Files.exists(other));
    }

    @Test
    void theOverlayCommandCarriesExactlyTheOptionsTheSystemCallGets() {
        List<Path> layers = List.of(Path.of("/layers/top"), Path.of("/layers/a,b"));
        String options = Cage.overlayOptions(layers, Path.of("/c/upper"), Path.of("/c/work"),
                LinuxFiles.OverlayAttributes.USER);
        assertEquals("userxattr,lowerdir=/layers/top:/layers/a\\,b,upperdir=/c/upper,workdir=/c/work", options);
        assertEquals(List.of("mount", "-t", "overlay", "-o", options, "overlay", "/c/root"), Cage.overlayMountCommand(
                layers, Path.of("/c/upper"), Path.of("/c/work"), Path.of("/c/root"), LinuxFiles.OverlayAttributes.USER));
    }

    @Test
    void overlayPathsEscapeTheirSeparators() {
        assertEquals("/a\\,b\\:c", Cage.escapeOverlayPath("/a,b:c"));
    }
}
