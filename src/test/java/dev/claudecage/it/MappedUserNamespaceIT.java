package dev.claudecage.it;

import dev.claudecage.host.Host;
import dev.claudecage.host.IdmappedMount;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.host.MappedUserNamespace;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shifting user namespace made without spawning a process: it is new, its maps are the ones asked
 * for (a mount shifted with it shows root's file as the mapped id, while the file itself stays root's),
 * and the child that made it is reaped (no child of this process is left). Needs root, and makes a
 * mount.
 */
class MappedUserNamespaceIT {

    private static final int MAPPED_ROOT = 1_879_048_192;

    @TempDir
    Path dir;

    @BeforeEach
    void needsRoot() {
        Assumptions.assumeTrue(Host.effectiveUid() == 0, "only root may map ids it does not hold and mount");
    }

    @Test
    void aMountShiftedWithItShowsRootsFileAsTheMappedIdAndNoChildIsLeft() throws IOException {
        Path source = Files.createDirectories(dir.resolve("source"));
        Files.writeString(source.resolve("file"), "root's");
        Set<String> childrenBefore = children();
        int fd = MappedUserNamespace.open("0 " + MAPPED_ROOT + " 65536\n", "0 " + MAPPED_ROOT + " 65536\n");
        try {
            assertEquals(childrenBefore, children(), "the child that made the namespace is reaped");
            String namespace = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            assertTrue(namespace.startsWith("user:["), namespace);
            assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/user")).toString(), namespace,
                    "a new user namespace, not this process's");
            try (IdmappedMount mount = IdmappedMount.create(source, dir.resolve("shifted"), fd)) {
                Path shifted = mount.target().resolve("file");
                assertEquals(MAPPED_ROOT, Files.getAttribute(shifted, "unix:uid", LinkOption.NOFOLLOW_LINKS));
                assertEquals(MAPPED_ROOT, Files.getAttribute(shifted, "unix:gid", LinkOption.NOFOLLOW_LINKS));
            }
            // The control: the file itself is root's; only the mount shows it shifted.
            assertEquals(0, Files.getAttribute(source.resolve("file"), "unix:uid", LinkOption.NOFOLLOW_LINKS));
        } finally {
            LinuxSyscalls.get().close(fd);
        }
    }

    /** This process's children, as /proc lists them for each of its threads. */
    private static Set<String> children() throws IOException {
        Set<String> children = new HashSet<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    children.addAll(Set.of(Files.readString(task.resolve("children")).trim().split("\\s+")));
                } catch (IOException ended) {
                    // A thread that ended meanwhile has no children to list.
                }
            }
        }
        children.remove("");
        return children;
    }
}
