package dev.claudecage.rootless;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Whether the host delegates cgroups to this user, so that a rootless cage's cpus, memory and
 * pids_limit can be enforced. Like podman, claude-cage applies rootless limits only on the unified
 * (v2) hierarchy, in a cgroup of this user's own that offers the memory, cpu and pids controllers;
 * cgroup v1 has no safe delegation to unprivileged users.
 *
 * @param delegated whether limits can be enforced for this user
 * @param cgroup    the user's own cgroup folder where delegated, else null
 * @param detail    why, naming what was checked
 */
public record CgroupDelegation(boolean delegated, Path cgroup, String detail) {

    static final List<String> CONTROLLERS = List.of("memory", "cpu", "pids");

    /** For this process, on a host whose unified hierarchy is at /sys/fs/cgroup when {@code unified} is true. */
    public static CgroupDelegation detect(int uid, boolean unified) {
        if (uid == 0) {
            return new CgroupDelegation(true, null, "root manages cgroups itself");
        }
        if (!unified) {
            return new CgroupDelegation(false, null, "cgroup v1 controllers: rootless limits need the unified v2 hierarchy "
                    + "with controllers delegated to the user");
        }
        String own = read(Path.of("/proc/self/cgroup")).lines().filter(line -> line.startsWith("0::"))
                .map(line -> line.substring(3)).findFirst().orElse(null);
        if (own == null) {
            return new CgroupDelegation(false, null, "this process is in no v2 cgroup");
        }
        Path cgroup = Path.of("/sys/fs/cgroup" + own);
        if (!Files.isWritable(cgroup)) {
            return new CgroupDelegation(false, null, cgroup + " is not writable by this user");
        }
        String controllers = read(cgroup.resolve("cgroup.controllers"));
        if (!Arrays.asList(controllers.split(" ")).containsAll(CONTROLLERS)) {
            return new CgroupDelegation(false, null, cgroup + " offers only '" + controllers + "', not memory, cpu and pids");
        }
        return new CgroupDelegation(true, cgroup, cgroup + " is this user's, with memory, cpu and pids");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
