package dev.claudecage.host;

import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about the host that decide what claude-cage may do. */
public final class Host {

    private Host() {
    }

    public static int effectiveUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new CageException("cannot read this process's uid from /proc/self: " + e.getMessage());
        }
    }

    public static int effectiveGid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        } catch (IOException e) {
            throw new CageException("cannot read this process's gid from /proc/self: " + e.getMessage());
        }
    }

    /** The login name of this process's user (the JDK reads it from the password database by uid). */
    public static String userName() {
        return System.getProperty("user.name");
    }

    /**
     * Why the builder needs root: its RUN steps use the host's network namespace, where a user
     * namespace may not mount sysfs, and its sandbox spec has not been made to go through the
     * rootless adaptation (docs/rootless.md, Images). Importing works rootless.
     */
    public static final String ROOTLESS_BUILDS = "rootless image builds are not built yet: the build sandbox's spec "
            + "(host network, cgroup limits) has not been adapted to a user namespace; import an image instead "
            + "(claude-cage image import)";

    /** For the commands that do not work rootless yet (docs/rootless.md): say why instead of failing halfway. */
    public static void requireRoot(String command, String rootlessReason) {
        if (effectiveUid() != 0) {
            throw new CageException("'claude-cage " + command + "' needs root: " + rootlessReason,
                    "run it with sudo; rootless, run a root file system with --rootfs (see docs/rootless.md: Images)");
        }
    }

    /** Whether the launcher talks to a terminal on both ends, so the cage should get one too. */
    public static boolean interactiveTerminal() {
        // Java 17's System.console() is non-null only when stdin and stdout are both terminals.
        return System.console() != null;
    }
}
