package dev.claudecage.session;

import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.testing.FakeProcesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostProbeTest {

    private static final String ID = "s-demo-0123456789ab";

    @Test
    void aLookForARuncCageThatIsNotThereStartsNoRunscListWhenTheRuntimeIsNamed(@TempDir Path dir) throws Exception {
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        Files.createDirectories(paths.runtimeState().resolve("runc"));
        // gVisor has a state root here with a cage's state in it: only its own list reads it.
        Files.createDirectories(paths.runtimeState().resolve("runsc"));
        Files.createFile(paths.runtimeState().resolve("runsc").resolve("x_sandbox:x.state"));
        FakeProcesses processes = new FakeProcesses().answer(List.of("runsc"), 0, "[]", "");
        HostProbe probe = new HostProbe(paths, processes.runner());

        assertEquals(Optional.empty(), probe.container(RuntimeKind.RUNC, ID));
        assertEquals(List.of(), processes.commands());

        // Positive control: a look in every runtime's root starts the runsc process the named look spares.
        assertEquals(Optional.empty(), probe.container(ID));
        assertTrue(processes.commands().stream().anyMatch(command -> command.contains("runsc")
                && command.contains("list")), "commands: " + processes.commands());
    }

    @Test
    void aListStartsNoRunscListWhereRunscLeftOnlyLockFiles(@TempDir Path dir) throws Exception {
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        Path runsc = Files.createDirectories(paths.runtimeState().resolve("runsc"));
        Files.createFile(runsc.resolve("gone_sandbox:gone.lock"));
        FakeProcesses processes = new FakeProcesses().answer(List.of("runsc"), 0, "[]", "");
        HostProbe probe = new HostProbe(paths, processes.runner());

        assertEquals(List.of(), probe.containers());
        assertEquals(List.of(), processes.commands());

        // Positive control: once a cage's state file is there, the list asks runsc.
        Files.createFile(runsc.resolve("live_sandbox:live.state"));
        assertEquals(List.of(), probe.containers());
        assertTrue(processes.commands().stream().anyMatch(command -> command.contains("runsc")
                && command.contains("list")), "commands: " + processes.commands());
    }
}
