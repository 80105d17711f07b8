package dev.claudecage.session;

import dev.claudecage.runtime.RuntimeKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimeStatesTest {

    private static final ProcessIdentity SELF = ProcessIdentity.current();

    /** The head of a real runc 1.1 state.json: its top-level fields come before the config. */
    private static String runcState(long pid, long start) {
        return "{\"id\":\"c\",\"init_process_pid\":" + pid + ",\"init_process_start\":" + start
                + ",\"created\":\"2026-12-07T13:34:59.18117795Z\",\"config\":{\"no_pivot_root\":false,\"mounts\":"
                + "[{\"source\":\"proc\",\"destination\":\"/proc\",\"flags\":14}]},\"rootless\":false,"
                + "\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/claude-cage/c\"},\"namespace_paths\":{}}";
    }

    private static String crunStatus(long pid, long start) {
        return "{\n    \"pid\" : " + pid + ",\n    \"process-start-time\" : " + start
                + ",\n    \"cgroup-path\" : \"/claude-cage/c\",\n    \"rootfs\" : \"/r\",\n    \"systemd-cgroup\" : false,"
                + "\n    \"bundle\" : \"/b\",\n    \"created\" : \"2026-12-07T13:34:59.181Z\",\n    \"detached\" : true\n}\n";
    }

    private static void write(Path root, RuntimeKind kind, String id, String state) throws Exception {
        Path dir = Files.createDirectories(root.resolve(id));
        Files.writeString(RuntimeStates.stateFile(kind, dir), state, StandardCharsets.UTF_8);
    }

    @Test
    void aLiveInitProcessIsRunningAndOneWithAnotherStartTimeIsStoppedAsRuncSays(@TempDir Path root) throws Exception {
        write(root, RuntimeKind.RUNC, "live", runcState(SELF.pid(), SELF.startTicks()));
        write(root, RuntimeKind.RUNC, "reused-pid", runcState(SELF.pid(), SELF.startTicks() + 1));
        RuntimeStates.Found found = RuntimeStates.all(RuntimeKind.RUNC, root);
        assertFalse(found.unknownFormat());
        assertEquals(List.of(new RuntimeContainer("runc", "live", SELF.pid(), "running"),
                        new RuntimeContainer("runc", "reused-pid", 0, "stopped")),
                found.containers().stream().sorted((a, b) -> a.id().compareTo(b.id())).toList());
    }

    @Test
    void aContainerWhoseExecFifoIsStillThereIsCreated(@TempDir Path root) throws Exception {
        write(root, RuntimeKind.RUNC, "made", runcState(SELF.pid(), SELF.startTicks()));
        Files.createFile(root.resolve("made/exec.fifo"));
        assertEquals(List.of(new RuntimeContainer("runc", "made", SELF.pid(), "created")),
                RuntimeStates.one(RuntimeKind.RUNC, root, "made").containers());
    }

    @Test
    void crunsStatusFileIsRead(@TempDir Path root) throws Exception {
        write(root, RuntimeKind.CRUN, "c", crunStatus(SELF.pid(), SELF.startTicks()));
        assertEquals(List.of(new RuntimeContainer("crun", "c", SELF.pid(), "running")),
                RuntimeStates.all(RuntimeKind.CRUN, root).containers());
    }

    @Test
    void aFolderWithoutStateIsSkippedLikeTheRuntimesListDoes(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("being-made"));
        write(root, RuntimeKind.RUNC, "live", runcState(SELF.pid(), SELF.startTicks()));
        assertEquals(List.of("live"), RuntimeStates.all(RuntimeKind.RUNC, root).containers().stream()
                .map(RuntimeContainer::id).toList());
        assertEquals(List.of(), RuntimeStates.one(RuntimeKind.RUNC, root, "being-made").containers());
        assertEquals(List.of(), RuntimeStates.one(RuntimeKind.RUNC, root, "absent").containers());
    }

    @Test
    void aStateInAnUnknownFormatOrALinkSendsTheCallerToTheRuntimesOwnList(@TempDir Path root) throws Exception {
        // Positive control: the same root reads when the odd file is not there.
        write(root, RuntimeKind.RUNC, "good", runcState(SELF.pid(), SELF.startTicks()));
        assertFalse(RuntimeStates.all(RuntimeKind.RUNC, root).unknownFormat());

        write(root, RuntimeKind.RUNC, "renamed-fields", "{\"id\":\"x\",\"pid\":12}");
        assertTrue(RuntimeStates.all(RuntimeKind.RUNC, root).unknownFormat());
        assertTrue(RuntimeStates.one(RuntimeKind.RUNC, root, "renamed-fields").unknownFormat());
        Files.delete(root.resolve("renamed-fields/state.json"));

        write(root, RuntimeKind.RUNC, "text-pid", "{\"init_process_pid\":\"12\",\"init_process_start\":5}");
        assertTrue(RuntimeStates.one(RuntimeKind.RUNC, root, "text-pid").unknownFormat());
        write(root, RuntimeKind.RUNC, "truncated", "{\"init_process_pid\":12,\"init_pro");
        assertTrue(RuntimeStates.one(RuntimeKind.RUNC, root, "truncated").unknownFormat());

        Path linked = Files.createDirectories(root.resolve("linked"));
        Files.createSymbolicLink(linked.resolve("state.json"), root.resolve("good/state.json"));
        assertTrue(RuntimeStates.one(RuntimeKind.RUNC, root, "linked").unknownFormat(),
                "a state file that is a link is not followed");
    }

    @Test
    void anIdThatIsAPathIsNoContainer(@TempDir Path root) throws Exception {
        write(root, RuntimeKind.RUNC, "good", runcState(SELF.pid(), SELF.startTicks()));
        assertEquals(1, RuntimeStates.one(RuntimeKind.RUNC, root, "good").containers().size());
        for (String id : List.of("", ".", "..", "../good", "good/..")) {
            assertEquals(List.of(), RuntimeStates.one(RuntimeKind.RUNC, root.resolve("sub"), id).containers(), id);
        }
    }

    @Test
    void aRunscRootWithOnlyTheLockFilesRunscLeavesBehindHoldsNoCageAndNeedsNoRunscList(@TempDir Path root) throws Exception {
        // What runsc 20221219 leaves after deleting a container: its lock file, no state file.
        Files.createFile(root.resolve("verify-peer-7fe4f4d768c4_sandbox:verify-peer-7fe4f4d768c4.lock"));
        assertEquals(new RuntimeStates.Found(List.of(), false), RuntimeStates.all(RuntimeKind.RUNSC, root));
        assertEquals(new RuntimeStates.Found(List.of(), false),
                RuntimeStates.one(RuntimeKind.RUNSC, root, "verify-peer-7fe4f4d768c4"));

        // Positive control: a state file, which is what runsc lists, sends the caller to runsc's own list.
        Path state = Files.createFile(root.resolve("s-demo-0123_sandbox:s-demo-0123.state"));
        assertTrue(RuntimeStates.all(RuntimeKind.RUNSC, root).unknownFormat());
        assertTrue(RuntimeStates.one(RuntimeKind.RUNSC, root, "s-demo-0123").unknownFormat());
        Files.delete(state);

        // Anything else runsc's format is not known to hold (a folder, a link named as a lock) is left to runsc too.
        Files.createDirectories(root.resolve("older-layout"));
        assertTrue(RuntimeStates.all(RuntimeKind.RUNSC, root).unknownFormat());
        Files.delete(root.resolve("older-layout"));
        Files.createSymbolicLink(root.resolve("x_sandbox:x.lock"), root.resolve("elsewhere"));
        assertTrue(RuntimeStates.all(RuntimeKind.RUNSC, root).unknownFormat());
    }
}
