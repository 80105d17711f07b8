package dev.claudecage.doctor;

import dev.claudecage.CageException;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.UsernsPool;
import dev.claudecage.host.CgroupLayout;
import dev.claudecage.host.IdmappedMount;
import dev.claudecage.host.StateLayout;
import dev.claudecage.host.IdBlock;
import dev.claudecage.identity.IdPool;
import dev.claudecage.identity.IdShift;
import dev.claudecage.identity.IdShifts;
import dev.claudecage.process.Executables;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.CgroupDelegation;
import dev.claudecage.rootless.IdRange;
import dev.claudecage.rootless.SubordinateIds;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.security.AppArmor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * @param ownIds                where root-mode cages would get host ids of their own, and whether they can; null rootless
 */
public record HostSnapshot(int uid, String userName, String kernel, String runcVersion, String crunVersion,
                           CgroupLayout cgroupLayout, boolean cgroupsDelegated, String cgroupDetail,
                           List<IdRange> subuids, List<IdRange> subgids, AppArmor appArmor, long maxUserNamespaces,
                           Integer unprivilegedUsernsClone, String nftVersion, MapHelper newuidmap, MapHelper newgidmap,
                           String xdgRuntimeDir, OwnIds ownIds) {

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

    /**
     * Root-mode cages' own host ids on this host.
     *
     * @param source       where they come from ({@code userns_pool}), in words
     * @param blocks       how many cages may hold a block at once
     * @param missing      why there are none, or null
     * @param held         how many cages hold a block now
     * @param idmapProblem why this host cannot idmap the image's layers, or null when it can
     */
    public record OwnIds(String source, int blocks, String missing, int held, String idmapProblem) {
    }

    /** The first kernel whose overlayfs takes idmapped layers. */
    static final int[] IDMAPPED_LAYERS_KERNEL = {5, 19};

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
                Optional.ofNullable(System.getenv("XDG_RUNTIME_DIR")).filter(dir -> !dir.isBlank()).orElse(null),
                uid == 0 ? ownIds(read(Path.of("/proc/sys/kernel/osrelease"))) : null);
    }

    private static OwnIds ownIds(String kernel) {
        UsernsPool setting;
        try {
            setting = ConfigLoader.forThisHost().load(Map.of()).config().usernsPool();
        } catch (RuntimeException e) {
            return new OwnIds("userns_pool", 0, "the configuration cannot be read: " + e.getMessage(), 0, null);
        }
        IdPool pool = IdPool.resolve(setting);
        int held = StatePaths.current().idAllocations().recorded().size();
        String idmap = pool.available() ? idmapProblem(kernel, pool.blocks().get(0)) : null;
        return new OwnIds(pool.source(), pool.blocks().size(), pool.missing(), held, idmap);
    }

    /** Why the image's layers cannot be idmapped here, or null: tried on the image store's file system. */
    private static String idmapProblem(String kernel, IdBlock block) {
        if (!Diagnosis.atLeast(kernel, IDMAPPED_LAYERS_KERNEL)) {
            return "kernel " + kernel + " is older than 5.19, whose overlayfs takes idmapped layers";
        }
        Path layers = java.util.stream.Stream.of(StateLayout.current().images(), Path.of(CagePlan.DEFAULT_ROOTFS),
                StateLayout.current().data()).filter(Files::isDirectory).findFirst().orElse(Path.of("/"));
        IdShift shift = IdShift.wholeBlock(block);
        try (IdShifts shifts = new IdShifts()) {
            IdmappedMount.check(layers, shifts.namespace(shift));
            return null;
        } catch (CageException e) {
            return e.getMessage();
        }
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
