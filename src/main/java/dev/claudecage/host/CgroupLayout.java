package dev.claudecage.host;

import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** How the host mounts cgroups, read from the mount table. */
public enum CgroupLayout {
    /** Only the unified v2 hierarchy, at /sys/fs/cgroup. */
    V2,
    /** v1 controllers, with an (empty) v2 hierarchy beside them: crun refuses this layout. */
    HYBRID,
    /** v1 controllers only. */
    V1,
    /** No cgroup file system mounted. */
    NONE;

    /** This host's layout. */
    public static CgroupLayout current() {
        try {
            return fromMounts(Files.readAllLines(Path.of("/proc/self/mounts")));
        } catch (IOException e) {
            throw new CageException("cannot read /proc/self/mounts: " + e.getMessage());
        }
    }

    /** The layout from the lines of {@code /proc/self/mounts}. */
    public static CgroupLayout fromMounts(List<String> mounts) {
        boolean v1 = false;
        boolean v2 = false;
        boolean unifiedAtRoot = false;
        for (String line : mounts) {
            String[] fields = line.split(" ");
            if (fields.length < 3) {
                continue;
            }
            if (fields[2].equals("cgroup2")) {
                v2 = true;
                unifiedAtRoot |= fields[1].equals("/sys/fs/cgroup");
            } else if (fields[2].equals("cgroup")) {
                v1 = true;
            }
        }
        if (unifiedAtRoot && !v1) {
            return V2;
        }
        if (v1) {
            return v2 ? HYBRID : V1;
        }
        return v2 ? HYBRID : NONE;
    }

    public String describe() {
        return switch (this) {
            case V2 -> "v2 (unified)";
            case HYBRID -> "hybrid (v1 controllers, v2 hierarchy beside them)";
            case V1 -> "v1";
            case NONE -> "none mounted";
        };
    }
}
