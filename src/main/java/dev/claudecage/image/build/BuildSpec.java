package dev.claudecage.image.build;

import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The build sandbox, as the cage's own spec with the walls a package install cannot live with
 * taken down, and only those:
 * <ul>
 *   <li>the process runs as the Dockerfile's USER (root by default), with {@link #CAPABILITIES}
 *       only: what apt, dpkg and useradd need to own, chmod and switch users (Docker grants 14);
 *       no_new_privs stays set;</li>
 *   <li>the root is writable: it is an overlay whose upper directory becomes the step's layer;</li>
 *   <li>the host's network namespace (and its resolv.conf), so that apt and npm reach their
 *       registries;</li>
 *   <li>no tmpfs on /tmp, /run or the home, and no user mounts: what a RUN writes there belongs
 *       to the image, as with Docker.</li>
 * </ul>
 * Everything else is the cage's: the seccomp allowlist (the default profile, whatever the
 * configuration says), the masked and read-only /proc and /sys paths, new pid, ipc, uts, mount
 * and cgroup namespaces, the cgroup limits and the rlimits. No AppArmor profile is named: the
 * cage's profile grants no capabilities.
 */
final class BuildSpec {

    static final List<String> CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
            "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP");

    /** The cage's mounts a build keeps: the kernel file systems, /dev, and the resolver. */
    static final Set<String> KEPT_MOUNTS = Set.of("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
            "/sys/fs/cgroup", "/etc/resolv.conf");

    private BuildSpec() {
    }

    /**
     * A RUN: {@code args} as {@code user} in {@code cwd} with {@code env}, on the cage spec {@code cage},
     * with the step's own {@code RUN --mount}s after the cage's kept ones.
     */
    static Spec forRun(Spec cage, List<String> args, List<String> env, UserDatabase.Identity user, String cwd,
                       List<Spec.Mount> stepMounts) {
        // Ambient stays empty: like Docker, a RUN as a non-root USER has no capabilities.
        Spec.Capabilities capabilities = new Spec.Capabilities(CAPABILITIES, CAPABILITIES, List.of(), CAPABILITIES, List.of());
        Spec.Process process = new Spec.Process(false, new Spec.User(user.uid(), user.gid(), user.additionalGids()), args,
                env, cwd, capabilities, cage.process().rlimits(), true, null, null);
        List<Spec.Mount> mounts = new ArrayList<>(cage.mounts().stream()
                .filter(mount -> KEPT_MOUNTS.contains(mount.destination()))
                .toList());
        mounts.addAll(stepMounts);
        return cage.withProcess(process).withRoot(new Spec.Root(SpecBuilder.ROOTFS_DIR, false)).withMounts(mounts);
    }
}
