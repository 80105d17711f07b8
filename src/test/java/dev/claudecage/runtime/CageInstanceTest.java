package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.json.Json;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.SpecBuilderTest;
import dev.claudecage.oci.Spec;
import dev.claudecage.process.Stdio;
import dev.claudecage.security.AppArmor;
import dev.claudecage.security.SeccompPolicy;
import dev.claudecage.testing.FakeProcesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact mount and runtime commands of a cage's preparation, start and removal (network none, root). */
class CageInstanceTest {

    private static final String ID = "run-0123456789ab";

    private static CagePlan plan(Path rootfs, FakeProcesses processes, Path runtimeState) {
        CageConfig config = SpecBuilderTest.config(List.of());
        return new CagePlan(config, List.of(rootfs), CageRequest.ImageDefaults.NONE,
                new OciRuntime(RuntimeKind.RUNC, Path.of("/usr/sbin/runc"), runtimeState, processes.runner()),
                new HostPolicy(SeccompPolicy.defaultPolicy().toOci("amd64"), null,
                        new AppArmor(AppArmor.Status.UNAVAILABLE, "unavailable in this test")), null, null, null);
    }

    @Test
    void preparesTheRootStartsTheRuntimeAndRemovesBoth(@TempDir Path dir) throws Exception {
        Path rootfs = Files.createDirectory(dir.resolve("rootfs"));
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        Path run = paths.runs().resolve(ID);
        Path runtimeState = paths.runtimeState().resolve("runc");
        FakeProcesses processes = new FakeProcesses();
        CageInstance cage = CageInstance.prepare(plan(rootfs, processes, runtimeState), ID, List.of("id"), false,
                null, null, paths, processes.runner(), CageInstance.SpecAdjustment.NONE);
        assertEquals(List.of(List.of("mount", "-t", "overlay", "-o", "lowerdir=" + rootfs + ",upperdir=" + run.resolve("upper")
                        + ",workdir=" + run.resolve("work"), "overlay", run.resolve("bundle/rootfs").toString())),
                processes.commands());
        Spec spec = Json.read(Files.readString(run.resolve("bundle/config.json")), Spec.class);
        assertEquals(List.of("id"), spec.process().args());

        cage.start(Stdio.all(ProcessBuilder.Redirect.PIPE));
        assertEquals(List.of("/usr/sbin/runc", "--root", runtimeState.toString(), "--log", run.resolve("runtime.log")
                        .toString(), "--log-format", "json", "run", "--bundle", run.resolve("bundle").toString(), ID),
                processes.commands().get(1));

        cage.close();
        assertEquals(List.of(
                List.of("/usr/sbin/runc", "--root", runtimeState.toString(), "delete", "--force", ID),
                List.of("umount", run.resolve("bundle/rootfs").toString())),
                processes.commands().subList(2, 4));
        assertFalse(Files.exists(run), "the run folder is gone");
        cage.close();
        assertEquals(4, processes.commands().size(), "a second close does nothing");
    }

    @Test
    void aContainerThatCannotBeDeletedIsNamedAndTheRootIsUnmountedAllTheSame(@TempDir Path dir) {
        Path rootfs = dir.resolve("rootfs");
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("/usr/sbin/runc"), 1, "", "container is still being killed: device or resource busy");
        rootfs.toFile().mkdirs();
        CageInstance cage = CageInstance.prepare(plan(rootfs, processes, dir.resolve("state")), ID, List.of("id"), false,
                null, null, paths, processes.runner(), CageInstance.SpecAdjustment.NONE);
        cage.start(Stdio.all(ProcessBuilder.Redirect.PIPE));
        CageException failure = assertThrows(CageException.class, cage::close);
        assertTrue(failure.getMessage().startsWith("cleanup of cage " + ID + " was incomplete: remove the cage: "
                + "delete container: '/usr/sbin/runc"), failure.getMessage());
        assertEquals(List.of("umount", paths.runs().resolve(ID).resolve("bundle/rootfs").toString()),
                processes.commands().get(processes.commands().size() - 1), "the root is unmounted all the same");
    }

    @Test
    void aRootThatDoesNotMountLeavesNothing(@TempDir Path dir) throws Exception {
        Path rootfs = Files.createDirectory(dir.resolve("rootfs"));
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        FakeProcesses processes = new FakeProcesses().answer(List.of("mount"), 32, "", "mount: wrong fs type");
        CageException failure = assertThrows(CageException.class, () -> CageInstance.prepare(
                plan(rootfs, processes, dir.resolve("state")), ID, List.of("id"), false, null, null, paths,
                processes.runner(), CageInstance.SpecAdjustment.NONE));
        assertTrue(failure.getMessage().contains("mount: wrong fs type"), failure.getMessage());
        assertEquals(1, processes.commands().size(), "nothing to unmount, no container to delete (no runtime started)");
        assertFalse(Files.exists(paths.runs().resolve(ID)));
    }
}
