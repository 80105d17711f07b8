package dev.claudecage.doctor;

import dev.claudecage.host.CgroupLayout;
import dev.claudecage.process.Executables;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.CgroupDelegation;
import dev.claudecage.rootless.IdRange;
import dev.claudecage.rootless.SubordinateIds;
import dev.claudecage.security.AppArmor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@code claude-cage doctor} read from this host for this user, as plain data: gathering
 * touches the host, judging it ({@link Diagnosis}) does not, so the judgement is tested with
 * snapshots of other hosts.
 *
 * @param runcVersion           the first line of {@code runc --version}, or null when runc is missing
 * @param crunVersion           the same for crun
 * @param cgroupsDelegated      whether this user may create cgroups with memory, cpu and pids limits
 * @param cgroupDetail          why (the folder that was checked)
 * @param maxUserNamespaces     {@code /proc/sys/user/max_user_namespaces}
 * @param unprivilegedUsernsClone {@code kernel.unprivileged_userns_clone} (Debian's patch), or null when the kernel has no such knob
 * @param nftVersion            {@code nft --version}, or null
 * @param newuidmap             the helper's state
 * @param xdgRuntimeDir         $XDG_RUNTIME_DIR, or null
 */
public record HostSnapshot(int uid, String userName, String kernel, String runcVersion, String crunVersion,
                           CgroupLayout cgroupLayout, boolean cgroupsDelegated, String cgroupDetail,
                           List<IdRange> subuids, List<IdRange> subgids, AppArmor appArmor, long maxUserNamespaces,
                           Integer unprivilegedUsernsClone, String nftVersion, MapHelper newuidmap, MapHelper newgidmap,
                           String xdgRuntimeDir) {

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(10);

    public HostSnapshot {
        subuids = List.copyOf(subuids);
        subgids = List.copyOf(subgids);
    }

    /** newuidmap or newgidmap: where it is and whether it can write maps for an unprivileged user. */
    public record MapHelper(String path, boolean privileged, String detail) {
        public static MapHelper missing() {
            return new MapHelper(null, false, "not installed (apt-get install uidmap)");
        }
    }

    public static HostSnapshot gather(int uid, String userName, ProcessRunner runner) {
        CgroupLayout layout = CgroupLayout.current();
        CgroupDelegation delegation = CgroupDelegation.detect(uid, layout == CgroupLayout.V2);
        return new HostSnapshot(uid, userName, read(Path.of("/proc/sys/kernel/osrelease")),
                firstLine(runner, "runc", "--version"), firstLine(runner, "crun", "--version"),
                layout, delegation.delegated(), delegation.detail(),
                SubordinateIds.read(SubordinateIds.SUBUID, userName, uid),
                SubordinateIds.read(SubordinateIds.SUBGID, userName, uid),
                AppArmor.detect(), readLong(Path.of("/proc/sys/user/max_user_namespaces"), 0L),
                Optional.ofNullable(readLong(Path.of("/proc/sys/kernel/unprivileged_userns_clone"), null))
                        .map(Long::intValue).orElse(null),
                firstLine(runner, "nft", "--version"), mapHelper("newuidmap", runner), mapHelper("newgidmap", runner),
                Optional.ofNullable(System.getenv("XDG_RUNTIME_DIR")).filter(dir -> !dir.isBlank()).orElse(null));
    }

    private static MapHelper mapHelper(String name, ProcessRunner runner) {
        Optional<Path> found = Executables.find(name);
        if (found.isEmpty()) {
            return MapHelper.missing();
        }
        Path path = found.get();
        try {
            boolean setuidRoot = Files.getAttribute(path, "unix:uid").equals(0)
                    && ((Integer) Files.getAttribute(path, "unix:mode") & 04000) != 0
                    && Files.getPosixFilePermissions(path).contains(PosixFilePermission.OTHERS_EXECUTE);
            if (setuidRoot) {
                return new MapHelper(path.toString(), true, "setuid root");
            }
        } catch (IOException e) {
            return new MapHelper(path.toString(), false, "cannot read its mode: " + e.getMessage());
        }
        // Some distributions give it file capabilities instead of the setuid bit.
        String caps = Executables.find("getcap").map(getcap -> runner.runAllowingFailure(
                List.of(getcap.toString(), path.toString()), TOOL_TIMEOUT).stdout().strip()).orElse("");
        boolean capable = caps.contains("cap_setuid") || caps.contains("cap_setgid");
        return new MapHelper(path.toString(), capable, capable ? "file capabilities: " + caps.replace(path.toString(), "").strip()
                : "neither setuid root nor given cap_setuid/cap_setgid");
    }

    private static String firstLine(ProcessRunner runner, String tool, String flag) {
        return Executables.find(tool).map(binary -> {
            CommandResult result = runner.runAllowingFailure(List.of(binary.toString(), flag), TOOL_TIMEOUT);
            return result.succeeded() ? result.stdout().lines().findFirst().orElse("").strip() : null;
        }).orElse(null);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static Long readLong(Path file, Long missing) {
        String value = read(file);
        return value.matches("-?[0-9]+") ? Long.valueOf(value) : missing;
    }
}
