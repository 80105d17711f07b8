package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.oci.SpecBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The cgroups a runtime made for a cage ({@link SpecBuilder#CGROUP_PARENT}/ID in the unified
 * hierarchy and in each v1 hierarchy), removed here when the runtime could not. runc kills what is
 * left in them at the end of its run and removes them, but gives up on one still busy with a process
 * that has not finished exiting (EBUSY; seen once under load, in a CI run) and removes its state
 * folder all the same, after which no {@code runc delete} finds the container to clean up.
 */
final class CageCgroups {

    static final Path ROOT = Path.of("/sys/fs/cgroup");
    /** Killed processes leave their cgroup within milliseconds; half a second is plenty. */
    private static final int ATTEMPTS = 50;
    private static final long PAUSE_MILLIS = 10;

    private CageCgroups() {
    }

    /** Removes the cage's cgroups under {@code root} that are still there; those that stay busy are named. */
    static void removeLeftovers(Path root, String containerId) {
        List<Path> left = existing(root, containerId);
        for (int attempt = 0; !left.isEmpty() && attempt < ATTEMPTS; attempt++) {
            if (attempt > 0) {
                pause();
            }
            left = left.stream().filter(cgroup -> !removed(cgroup)).toList();
        }
        if (!left.isEmpty()) {
            throw new CageException("its cgroups are still busy: " + left
                    + "; claude-cage gc removes them once what runs in them has ended");
        }
    }

    private static List<Path> existing(Path root, String containerId) {
        Path relative = Path.of(SpecBuilder.CGROUP_PARENT.substring(1), containerId);
        List<Path> candidates = new ArrayList<>(List.of(root.resolve(relative)));
        try (Stream<Path> hierarchies = Files.list(root)) {
            hierarchies.forEach(hierarchy -> candidates.add(hierarchy.resolve(relative)));
        } catch (IOException e) {
            // No cgroup file system here: nothing to remove.
        }
        return candidates.stream().filter(cgroup -> Files.isDirectory(cgroup, LinkOption.NOFOLLOW_LINKS)).toList();
    }

    /** A cgroup's directory goes with rmdir(2), its control files with it, once no process is in it. */
    private static boolean removed(Path cgroup) {
        try {
            Files.deleteIfExists(cgroup);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void pause() {
        try {
            Thread.sleep(PAUSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while removing the cage's cgroups");
        }
    }
}
