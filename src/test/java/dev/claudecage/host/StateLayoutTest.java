package dev.claudecage.host;

import dev.claudecage.CageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateLayoutTest {

    @Test
    void rootKeepsItsStateInTheSystemFolders() {
        StateLayout layout = StateLayout.forUser(0, Map.of("XDG_RUNTIME_DIR", "/elsewhere", "HOME", "/root"));
        assertFalse(layout.rootless());
        assertEquals(Path.of("/run/claude-cage"), layout.run());
        assertEquals(Path.of("/var/lib/claude-cage/images"), layout.images());
    }

    @Test
    void aUserKeepsImagesAndSessionsUnderXdgDataHome() {
        assertEquals(Path.of("/home/alice/.local/share/claude-cage/images"),
                StateLayout.forUser(4711, Map.of("HOME", "/home/alice")).images());
        StateLayout layout = StateLayout.forUser(4711, Map.of("HOME", "/home/alice", "XDG_DATA_HOME", "/data/alice"));
        assertTrue(layout.rootless());
        assertEquals(Path.of("/data/alice/claude-cage"), layout.data());
    }

    @Test
    void runtimeStateNeedsAFolderThatIsTheUsersOwn(@TempDir Path dir) {
        // The temporary folder belongs to whoever runs the tests, never to uid 4711.
        CageException notOwn = assertThrows(CageException.class,
                () -> StateLayout.forUser(4711, Map.of("HOME", "/home/alice", "XDG_RUNTIME_DIR", dir.toString())).run());
        assertTrue(notOwn.getMessage().contains("is not a folder of this user (uid 4711)"), notOwn.getMessage());

        CageException unset = assertThrows(CageException.class,
                () -> StateLayout.forUser(4711, Map.of("HOME", "/home/alice")).run());
        assertTrue(unset.getMessage().startsWith("$XDG_RUNTIME_DIR is not set, and /run/user/4711 is not"), unset.getMessage());
        assertTrue(unset.hint().contains("export XDG_RUNTIME_DIR="), unset.hint());

        assertThrows(CageException.class,
                () -> StateLayout.forUser(4711, Map.of("HOME", "/home/alice", "XDG_RUNTIME_DIR", "relative")).run());
    }

    @Test
    void withoutAnyHomeThereIsNoPlaceForImages() {
        assertThrows(CageException.class, () -> StateLayout.forUser(4711, Map.of()));
    }
}
