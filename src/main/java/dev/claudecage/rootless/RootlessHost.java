package dev.claudecage.rootless;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.Sizes;
import dev.claudecage.host.CgroupLayout;
import dev.claudecage.host.Host;
import dev.claudecage.oci.Spec;

import java.nio.file.Path;
import java.util.List;

/**
 * What a rootless cage needs to know about this user and host, resolved once before the pure spec
 * builder runs: the uid and gid maps of its user namespace and whether the host delegates cgroups.
 */
public record RootlessHost(IdMap uids, IdMap gids, CgroupDelegation cgroups) {

    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    /** For the user running this process; fails with what to do when it has no subordinate ids. */
    public static RootlessHost detect(CageConfig config) {
        return detect(config.uid(), config.gid());
    }

    /** For the user running this process, whose cages run as {@code cageUid}:{@code cageGid}. */
    public static RootlessHost detect(int cageUid, int cageGid) {
        int uid = Host.effectiveUid();
        int gid = Host.effectiveGid();
        String user = Host.userName();
        IdMap uids = IdMap.forCage("uid", cageUid, uid,
                SubordinateIds.read(SubordinateIds.SUBUID, user, uid), SubordinateIds.SUBUID.toString());
        IdMap gids = IdMap.forCage("gid", cageGid, gid,
                SubordinateIds.read(SubordinateIds.SUBGID, user, uid), SubordinateIds.SUBGID.toString());
        return new RootlessHost(uids, gids, CgroupDelegation.detect(uid, CgroupLayout.current() == CgroupLayout.V2));
    }

    /**
     * Refuses a cage whose limits this host cannot enforce for this user, naming each, unless the
     * configuration allows running without them: a weaker cage is the user's choice, never a silent one.
     */
    public void requireLimits(CageConfig config) {
        requireLimits(config, cgroups);
    }

    /** As {@link #requireLimits(CageConfig)}, for a host that delegates cgroups as {@code cgroups} says. */
    public static void requireLimits(CageConfig config, CgroupDelegation cgroups) {
        if (cgroups.delegated() || config.allowUnlimited()) {
            return;
        }
        throw new CageException("this host cannot enforce the cage's limits for this user (" + cgroups.detail() + "): "
                + String.join(", ", unenforceable(config)),
                "run with --allow-unlimited (or allow_unlimited: true) to start the cage without them, "
                        + "or use a host with cgroup v2 delegation; claude-cage doctor shows what this host supports");
    }

    /** The limits that would not hold, as the user set them. */
    static List<String> unenforceable(CageConfig config) {
        return List.of("cpus=" + config.yamlValues().get("cpus"), "memory=" + Sizes.format(config.memoryBytes()),
                "pids_limit=" + config.pidsLimit());
    }

    /**
     * The root-mode spec made fit for a rootless cage, in the spirit of runc's {@code ToRootless}:
     * without delegation, no cgroup settings at all (runc could not apply them); with it, the cage's
     * cgroup under the user's own. A user namespace may mount sysfs only with a network namespace
     * of its own, and proc only with a pid namespace of its own; without one (network host, or a
     * verify control that shares the host's) the cage gets the host's tree bound read-only instead.
     */
    public Spec adapt(Spec spec) {
        return adapt(spec, cgroups);
    }

    /** As {@link #adapt(Spec)}, for a host that delegates cgroups to the user as {@code cgroups} says. */
    public static Spec adapt(Spec spec, CgroupDelegation cgroups) {
        Spec.Linux linux = cgroups.delegated()
                ? spec.linux().withCgroupsPath("/" + CGROUP_ROOT.relativize(cgroups.cgroup()) + spec.linux().cgroupsPath())
                : spec.linux().withResources(null).withCgroupsPath(null);
        boolean ownNetwork = hasNamespace(spec, "network");
        boolean ownPids = hasNamespace(spec, "pid");
        List<Spec.Mount> mounts = spec.mounts().stream()
                .map(mount -> mount.type().equals("sysfs") && !ownNetwork ? hostTree(mount)
                        : mount.type().equals("proc") && !ownPids ? hostTree(mount)
                        : mount)
                .toList();
        return spec.withLinux(linux).withMounts(mounts);
    }

    private static boolean hasNamespace(Spec spec, String type) {
        return spec.linux().namespaces().stream().anyMatch(namespace -> namespace.type().equals(type));
    }

    private static Spec.Mount hostTree(Spec.Mount mount) {
        return new Spec.Mount(mount.destination(), "bind", mount.destination(), List.of("rbind", "nosuid", "noexec", "nodev", "ro"));
    }
}
