package dev.claudecage.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Live resource numbers of a cage, read from its cgroups: cgroup v1 (memory, cpuacct, pids
 * controllers, each at /sys/fs/cgroup/CONTROLLER/claude-cage/ID) or, where the host has only the
 * unified hierarchy, cgroup v2 (/sys/fs/cgroup/claude-cage/ID). A number that cannot be read is null.
 *
 * @param memoryLimitBytes null when unlimited
 * @param pidsLimit        null when unlimited
 */
public record CgroupStats(Long memoryBytes, Long memoryLimitBytes, Double cpuSeconds, Long pids, Long pidsLimit) {

    /** v1 reports "no limit" as a huge number rounded to the page size. */
    private static final long V1_UNLIMITED = Long.MAX_VALUE / 2;

    public static CgroupStats read(Path cgroupRoot, String containerId) {
        Path v2 = cgroupRoot.resolve(HostProbe.CGROUP_PARENT).resolve(containerId);
        if (Files.isRegularFile(v2.resolve("cgroup.controllers"))) {
            Long usec = cpuStatUsage(v2.resolve("cpu.stat"));
            return new CgroupStats(number(v2.resolve("memory.current")), limit(v2.resolve("memory.max")),
                    usec == null ? null : usec / 1e6, number(v2.resolve("pids.current")), limit(v2.resolve("pids.max")));
        }
        Path memory = cgroupRoot.resolve("memory").resolve(HostProbe.CGROUP_PARENT).resolve(containerId);
        Path cpu = cgroupRoot.resolve("cpuacct").resolve(HostProbe.CGROUP_PARENT).resolve(containerId);
        Path pids = cgroupRoot.resolve("pids").resolve(HostProbe.CGROUP_PARENT).resolve(containerId);
        Long memoryLimit = number(memory.resolve("memory.limit_in_bytes"));
        Long nanos = number(cpu.resolve("cpuacct.usage"));
        return new CgroupStats(number(memory.resolve("memory.usage_in_bytes")),
                memoryLimit != null && memoryLimit >= V1_UNLIMITED ? null : memoryLimit,
                nanos == null ? null : nanos / 1e9, number(pids.resolve("pids.current")), limit(pids.resolve("pids.max")));
    }

    private static Long number(Path file) {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    private static Long limit(Path file) {
        try {
            String text = Files.readString(file).strip();
            return "max".equals(text) ? null : Long.parseLong(text);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    private static Long cpuStatUsage(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith("usage_usec ")) {
                    return Long.parseLong(line.substring("usage_usec ".length()).strip());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }
}
