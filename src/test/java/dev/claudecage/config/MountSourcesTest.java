package dev.claudecage.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which host paths are the host's root in disguise (issue 14, attack 4 and point 9), by name and by file. */
class MountSourcesTest {

    private static final Path STATE = Path.of("/var/lib/claude-cage");

    private static Map<Path, String> refused() {
        Map<Path, String> refused = new LinkedHashMap<>(MountSources.SYSTEM_FOLDERS);
        refused.put(STATE, "claude-cage's own state");
        return refused;
    }

    /** Every path its own file, as on a host without bind mounts. */
    private static String byName(String path) {
        return MountSources.folderProblem(Path.of(path), refused(), Path::toString);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "/etc                        | is /etc, the host's configuration",
            "/etc/ssh                    | lies in /etc, the host's configuration",
            "/usr/local/src/project      | lies in /usr, the host's programs and libraries",
            "/boot                       | is /boot, the host's kernel and boot loader",
            "/root/project               | lies in /root, root's home",
            "/proc/1/root                | lies in /proc, the kernel's view of the host",
            "/sys                        | is /sys, the kernel's view of the host",
            "/dev/sda                    | lies in /dev, the kernel's view of the host",
            "/run/docker.sock            | lies in /run, the running services' state and sockets",
            "/run/containerd/containerd.sock | lies in /run",
            "/run/podman/podman.sock     | lies in /run",
            "/run/claude-cage            | lies in /run",
            "/var/lib/claude-cage/sessions | lies in /var/lib/claude-cage, claude-cage's own state",
            "/                           | holds /etc, the host's configuration",
            "/var                        | holds /var/lib/claude-cage, claude-cage's own state",
            "/var/lib                    | holds /var/lib/claude-cage, claude-cage's own state"})
    void systemFoldersTheirContentsAndWhatHoldsThemAreRefused(String path, String problem) {
        String found = byName(path);
        assertTrue(found != null && found.startsWith(problem), path + ": " + found);
    }

    @ParameterizedTest
    @CsvSource({"/home/alice/project", "/srv/site", "/tmp/work", "/var/lib/claude-cage-clones/s/workspace", "/opt/sdk",
            "/etcetera", "/runner/work"})
    void otherFoldersPass(String path) {
        assertNull(byName(path), path);
    }

    @Test
    void aBindMountOfAFolderIsThatFolder() {
        // /mnt/e is /etc mounted again, /mnt/root is / mounted again, /mnt/v is /var.
        Map<Path, String> keys = new HashMap<>();
        keys.put(Path.of("/mnt/e"), "/etc");
        keys.put(Path.of("/mnt/root"), "/");
        keys.put(Path.of("/mnt/v"), "/var");
        Function<Path, Object> key = path -> keys.getOrDefault(path, path.toString());

        assertEquals("is /etc mounted again, the host's configuration",
                MountSources.folderProblem(Path.of("/mnt/e"), refused(), key));
        assertEquals("lies in /mnt/e, which is /etc mounted again, the host's configuration",
                MountSources.folderProblem(Path.of("/mnt/e/ssh"), refused(), key));
        assertEquals("is / mounted again, so it holds /etc, the host's configuration",
                MountSources.folderProblem(Path.of("/mnt/root"), refused(), key));
        assertEquals("is /var mounted again, so it holds /var/lib/claude-cage, claude-cage's own state",
                MountSources.folderProblem(Path.of("/mnt/v"), refused(), key));
        assertNull(MountSources.folderProblem(Path.of("/mnt/other"), refused(), key), "a positive control");
    }

    @Test
    void aMissingSystemFolderIsNoMatchForAnything() {
        Function<Path, Object> key = path -> path.toString().startsWith("/lib") ? null : path.toString();

        assertNull(MountSources.folderProblem(Path.of("/srv/x"), refused(), key));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "0140755 | is a Unix socket: the cage would get whatever service listens on it, with that service's rights "
                    + "and outside the cage (Docker's socket is root on the host)",
            "0010644 | is a named pipe",
            "0020660 | is a device",
            "0060660 | is a device"})
    void onlyFoldersAndRegularFilesMayBeMounted(String octalMode, String problem) {
        String found = MountSources.kindProblem(Integer.parseInt(octalMode, 8));
        assertTrue(found != null && found.startsWith(problem), found);
        assertNull(MountSources.kindProblem(0040755), "a folder");
        assertNull(MountSources.kindProblem(0100644), "a regular file");
    }
}
