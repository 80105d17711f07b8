package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.Mounter;
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
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact mounts and runtime commands of a cage's preparation, start and removal (network none, root). */
class CageInstanceTest {

    private static final String ID = "run-0123456789ab";

    private static CagePlan plan(Path rootfs, FakeProcesses processes, Path runtimeState) {
        CageConfig config = SpecBuilderTest.config(List.of());
        return new CagePlan(config, List.of(rootfs), CageRequest.ImageDefaults.NONE,
                new OciRuntime(RuntimeKind.RUNC, Path.of("/usr/sbin/runc"), runtimeState, processes.runner()),
                new HostPolicy(SeccompPolicy.defaultPolicy().toOci("amd64"), null,
                        new AppArmor(AppArmor.Status.UNAVAILABLE, "unavailable in this test")), null, null, null);
    }

    /** Records the root's mount and unmount as the commands that made them before; may refuse the mount. */
    private static final class RecordingMounts implements Mounter {
        final List<List<String>> calls = new ArrayList<>();
        private final String refusal;

        RecordingMounts(String refusal) {
            this.refusal = refusal;
        }

        @Override
        public void overlay(String options, Path target, String what) {
            calls.add(List.of("mount", "-t", "overlay", "-o", options, "overlay", target.toString()));
            if (refusal != null) {
                throw new CageException("cannot mount " + what + " at " + target + ": " + refusal);
            }
        }

        @Override
        public void unmount(Path target, boolean detachWhenBusy, String what) {
            calls.add(List.of("umount", target.toString()));
        }
    }

    private static CageInstance prepare(Path rootfs, FakeProcesses processes, Path runtimeState, StatePaths paths,
                                        Mounter mounts) {
        return CageInstance.prepare(plan(rootfs, processes, runtimeState), ID, List.of("id"), false, null, null, paths,
                processes.runner(), CageInstance.SpecAdjustment.NONE, mounts);
    }

    @Test
    void preparesTheRootStartsTheRuntimeAndRemovesBoth(@TempDir Path dir) throws Exception {
        Path rootfs = Files.createDirectory(dir.resolve("rootfs"));
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        Path run = paths.runs().resolve(ID);
        Path runtimeState = paths.runtimeState().resolve("runc");
        FakeProcesses processes = new FakeProcesses();
        RecordingMounts mounts = new RecordingMounts(null);
        CageInstance cage = prepare(rootfs, processes, runtimeState, paths, mounts);
        List<String> rootMount = List.of("mount", "-t", "overlay", "-o", "lowerdir=" + rootfs + ",upperdir="
                + run.resolve("upper") + ",workdir=" + run.resolve("work"), "overlay", run.resolve("bundle/rootfs").toString());
        assertEquals(List.of(rootMount), mounts.calls);
        assertEquals(List.of(), processes.commands(), "no process before the runtime");
        Spec spec = Json.read(Files.readString(run.resolve("bundle/config.json")), Spec.class);
        assertEquals(List.of("id"), spec.process().args());

        cage.start(Stdio.all(ProcessBuilder.Redirect.PIPE));
        assertEquals(List.of(List.of("/usr/sbin/runc", "--root", runtimeState.toString(), "--log", run.resolve("runtime.log")
                        .toString(), "--log-format", "json", "run", "--bundle", run.resolve("bundle").toString(), ID)),
                processes.commands());
        // runc left its state behind (it was killed, say): the container is deleted.
        Files.createDirectories(runtimeState.resolve(ID));

        cage.close();
        assertEquals(List.of("/usr/sbin/runc", "--root", runtimeState.toString(), "delete", "--force", ID),
                processes.commands().get(1));
        assertEquals(List.of(rootMount, List.of("umount", run.resolve("bundle/rootfs").toString())), mounts.calls);
        assertFalse(Files.exists(run), "the run folder is gone");
        cage.close();
        assertEquals(2, processes.commands().size(), "a second close does nothing");
        assertEquals(2, mounts.calls.size(), "a second close does nothing");
    }

    @Test
    void aContainerRuncRemovedAtTheEndOfItsRunIsNotDeletedAgain(@TempDir Path dir) throws Exception {
        Path rootfs = Files.createDirectory(dir.resolve("rootfs"));
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        Path runtimeState = paths.runtimeState().resolve("runc");
        FakeProcesses processes = new FakeProcesses();
        RecordingMounts mounts = new RecordingMounts(null);
        CageInstance cage = prepare(rootfs, processes, runtimeState, paths, mounts);
        cage.start(Stdio.all(ProcessBuilder.Redirect.PIPE));
        cage.close();
        assertEquals(1, processes.commands().size(), "only runc run: its state folder is gone, so is the container");
        assertEquals(List.of("umount", paths.runs().resolve(ID).resolve("bundle/rootfs").toString()),
                mounts.calls.get(mounts.calls.size() - 1));
        assertFalse(Files.exists(paths.runs().resolve(ID)), "the run folder is gone");
    }

    @Test
    void aContainerThatCannotBeDeletedIsNamedAndTheRootIsUnmountedAllTheSame(@TempDir Path dir) throws Exception {
        Path rootfs = dir.resolve("rootfs");
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("/usr/sbin/runc"), 1, "", "container is still being killed: device or resource busy");
        rootfs.toFile().mkdirs();
        Path runtimeState = dir.resolve("state");
        RecordingMounts mounts = new RecordingMounts(null);
        CageInstance cage = prepare(rootfs, processes, runtimeState, paths, mounts);
        cage.start(Stdio.all(ProcessBuilder.Redirect.PIPE));
        Files.createDirectories(runtimeState.resolve(ID));
        CageException failure = assertThrows(CageException.class, cage::close);
        assertTrue(failure.getMessage().startsWith("cleanup of cage " + ID + " was incomplete: remove the cage: "
                + "delete container: '/usr/sbin/runc"), failure.getMessage());
        assertEquals(List.of("umount", paths.runs().resolve(ID).resolve("bundle/rootfs").toString()),
                mounts.calls.get(mounts.calls.size() - 1), "the root is unmounted all the same");
    }

    @Test
    void aRootThatDoesNotMountLeavesNothing(@TempDir Path dir) throws Exception {
        Path rootfs = Files.createDirectory(dir.resolve("rootfs"));
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        FakeProcesses processes = new FakeProcesses();
        RecordingMounts mounts = new RecordingMounts("Invalid argument (EINVAL, errno 22)");
        CageException failure = assertThrows(CageException.class,
                () -> prepare(rootfs, processes, dir.resolve("state"), paths, mounts));
        assertTrue(failure.getMessage().contains("cannot mount the root of cage " + ID), failure.getMessage());
        assertEquals(1, mounts.calls.size(), "nothing to unmount");
        assertEquals(List.of(), processes.commands(), "no container to delete (no runtime started)");
        assertFalse(Files.exists(paths.runs().resolve(ID)));
    }
}
