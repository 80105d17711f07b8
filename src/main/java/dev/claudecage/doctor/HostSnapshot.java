package dev.claudecage.doctor;

import dev.claudecage.host.Executables;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.IdRange;
import dev.claudecage.rootless.SubordinateIds;
import dev.claudecage.security.AppArmor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Arrays;
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
        List<String> mounts = readLines(Path.of("/proc/self/mounts"));
        CgroupLayout layout = CgroupLayout.fromMounts(mounts);
        String[] delegation = cgroupDelegation(uid, layout);
        return new HostSnapshot(uid, userName, read(Path.of("/proc/sys/kernel/osrelease")),
                firstLine(runner, "runc", "--version"), firstLine(runner, "crun", "--version"),
                layout, Boolean.parseBoolean(delegation[0]), delegation[1],
                SubordinateIds.read(SubordinateIds.SUBUID, userName, uid),
                SubordinateIds.read(SubordinateIds.SUBGID, userName, uid),
                AppArmor.detect(), readLong(Path.of("/proc/sys/user/max_user_namespaces"), 0L),
                Optional.ofNullable(readLong(Path.of("/proc/sys/kernel/unprivileged_userns_clone"), null))
                        .map(Long::intValue).orElse(null),
                firstLine(runner, "nft", "--version"), mapHelper("newuidmap", runner), mapHelper("newgidmap", runner),
                Optional.ofNullable(System.getenv("XDG_RUNTIME_DIR")).filter(dir -> !dir.isBlank()).orElse(null));
    }

    /** {delegated, detail}: root may always; a user where the cgroup it is in is writable to it. */
    private static String[] cgroupDelegation(int uid, CgroupLayout layout) {
        if (uid == 0) {
            return new String[] {"true", "root manages cgroups itself"};
        }
        List<String> own = readLines(Path.of("/proc/self/cgroup"));
        List<Path> checked = switch (layout) {
            case V2 -> own.stream().filter(line -> line.startsWith("0::"))
                    .map(line -> Path.of("/sys/fs/cgroup" + line.substring(3))).toList();
            case HYBRID, V1 -> List.of("memory", "cpu", "pids").stream()
                    .map(controller -> own.stream().filter(line -> line.split(":", 3)[1].equals(controller))
                            .map(line -> Path.of("/sys/fs/cgroup", controller, line.split(":", 3)[2]))
                            .findFirst().orElse(Path.of("/sys/fs/cgroup", controller)))
                    .toList();
            case NONE -> List.of();
        };
        if (checked.isEmpty()) {
            return new String[] {"false", "no cgroup of this process found"};
        }
        List<Path> notWritable = checked.stream().filter(path -> !Files.isWritable(path)).toList();
        if (!notWritable.isEmpty()) {
            return new String[] {"false", "not writable: "
                    + String.join(", ", notWritable.stream().map(Path::toString).toList())};
        }
        if (layout == CgroupLayout.V2) {
            String controllers = read(checked.get(0).resolve("cgroup.controllers"));
            List<String> present = Arrays.asList(controllers.split(" "));
            if (!present.containsAll(List.of("memory", "cpu", "pids"))) {
                return new String[] {"false", checked.get(0) + " is writable but offers only '" + controllers + "'"};
            }
        }
        return new String[] {"true", "writable by this user: "
                + String.join(", ", checked.stream().map(Path::toString).toList())};
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

    private static List<String> readLines(Path file) {
        return read(file).lines().toList();
    }
}
