package dev.claudecage.oci;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountSpec;
import dev.claudecage.host.IdBlock;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The secure default spec, as one pure function from (configuration, request) to an OCI spec.
 * Everything a cage may do is decided here; the runtime only carries it out.
 */
public final class SpecBuilder {

    /** The rootfs directory inside the bundle, relative as in runc's own default spec. */
    public static final String ROOTFS_DIR = "rootfs";
    public static final String CAGE_HOME = "/home/claude";
    public static final String WORKSPACE = "/workspace";
    public static final String CGROUP_PARENT = "/claude-cage";
    /**
     * A bind mount option, OCI 1.1's name for it: the source shows in the cage with the ids it has
     * on disk as the cage's own ids (stored uid 1000 is the cage's uid 1000), as the image's files
     * do. The host prepares such mounts itself; the runtime never sees the option.
     */
    public static final String IDMAP = "idmap";

    static final String PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    static final long CPU_PERIOD_MICROS = 100_000;
    static final long NOFILE_LIMIT = 8192;
    /** /dev and /dev/shm hold device nodes and small shared-memory segments only. */
    static final String SMALL_TMPFS = "size=65536k";
    static final String RUN_TMPFS = "size=65536k";

    /** The paths runc's default spec and Docker mask: kernel memory, keys and hardware details. */
    static final List<String> MASKED_PATHS = List.of(
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware", "/sys/devices/virtual/powercap");

    /** Kernel knobs the cage may read but must never write. */
    static final List<String> READONLY_PATHS = List.of(
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    static final List<String> NAMESPACES = List.of("pid", "ipc", "uts", "mount", "network", "cgroup");

    /** Variables an image cannot set: the cage decides them. */
    static final Set<String> CAGE_ENV = Set.of("HOME", "container");

    /**
     * Every namespace new, except the network one: joined when prepared (filtered), shared for host;
     * and a user namespace of the cage's own when it has its own ids.
     */
    private static List<Spec.Namespace> namespaces(NetworkAttachment network, IdBlock ids) {
        List<Spec.Namespace> namespaces = new ArrayList<>();
        if (ids != null) {
            namespaces.add(Spec.Namespace.fresh("user"));
        }
        NAMESPACES.stream()
                .filter(type -> !(type.equals("network") && network.mode() == dev.claudecage.config.NetworkMode.HOST))
                .map(type -> type.equals("network") && network.namespacePath() != null
                        ? new Spec.Namespace(type, network.namespacePath()) : Spec.Namespace.fresh(type))
                .forEach(namespaces::add);
        return namespaces;
    }

    private SpecBuilder() {
    }

    public static Spec build(CageConfig config, CageRequest request) {
        return new Spec(Spec.OCI_VERSION, process(config, request),
                new Spec.Root(ROOTFS_DIR, config.readOnlyRoot()),
                request.hostname(), mounts(config, request.network(), request.wall(), request.image().volumes()),
                linux(config, request));
    }

    private static Spec.Process process(CageConfig config, CageRequest request) {
        List<String> env = withImageEnv(List.of(PATH, "HOME=" + CAGE_HOME, "LANG=C.UTF-8", "container=claude-cage"),
                request.image().env());
        if (request.terminal()) {
            env.add("TERM=xterm-256color");
        }
        env.addAll(config.env());
        // Last, so that a user variable cannot point the cage's tools past the proxy or the gateway.
        env.addAll(request.network().env());
        List<Spec.Rlimit> rlimits = List.of(
                new Spec.Rlimit("RLIMIT_NOFILE", NOFILE_LIMIT, NOFILE_LIMIT),
                // A core dump would write the agent's memory, keys included, wherever it runs.
                new Spec.Rlimit("RLIMIT_CORE", 0, 0));
        return new Spec.Process(request.terminal(), new Spec.User(config.uid(), config.gid(), List.of()),
                request.command(), env, workingDirectory(config, request.image()), Spec.Capabilities.none(), rlimits, true,
                request.apparmorProfile(), null);
    }

    /**
     * The image's ENV over the defaults, each variable replacing the default of its name in place
     * or added after them. HOME and the container marker stay the cage's: the home is its tmpfs.
     */
    private static List<String> withImageEnv(List<String> defaults, List<String> imageEnv) {
        List<String> env = new ArrayList<>(defaults);
        for (String entry : imageEnv) {
            String name = entry.split("=", 2)[0];
            if (CAGE_ENV.contains(name)) {
                continue;
            }
            int index = IntStream.range(0, env.size()).filter(i -> env.get(i).startsWith(name + "=")).findFirst().orElse(-1);
            if (index >= 0) {
                env.set(index, entry);
            } else {
                env.add(entry);
            }
        }
        return env;
    }

    /** The configured workdir, else the workspace when one is mounted, else the image's WORKDIR, else the home. */
    private static String workingDirectory(CageConfig config, CageRequest.ImageDefaults image) {
        if (config.workdir() != null) {
            return config.workdir();
        }
        if (config.mounts().stream().anyMatch(mount -> mount.target().equals(WORKSPACE))) {
            return WORKSPACE;
        }
        return image.workingDir() != null ? image.workingDir() : CAGE_HOME;
    }

    private static List<Spec.Mount> mounts(CageConfig config, NetworkAttachment network, WorkspaceWall wall,
                                           List<String> volumes) {
        List<Spec.Mount> mounts = new ArrayList<>(List.of(
                new Spec.Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                new Spec.Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", SMALL_TMPFS)),
                new Spec.Mount("/dev/pts", "devpts", "devpts",
                        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
                new Spec.Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", SMALL_TMPFS)),
                new Spec.Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
                new Spec.Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
                new Spec.Mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro")),
                // Agents build and run code in /tmp, so it stays executable.
                new Spec.Mount("/tmp", "tmpfs", "tmpfs",
                        List.of("nosuid", "nodev", "mode=1777", "size=" + config.tmpfsBytes())),
                new Spec.Mount("/run", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "noexec", "mode=755", RUN_TMPFS)),
                new Spec.Mount(CAGE_HOME, "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=700",
                        "uid=" + config.uid(), "gid=" + config.gid(), "size=" + config.tmpfsBytes()))));
        if (network.resolvConf() != null) {
            mounts.add(new Spec.Mount("/etc/resolv.conf", "bind", network.resolvConf().toString(),
                    List.of("bind", "ro", "nosuid", "nodev", "noexec")));
        }
        mounts.addAll(network.binds());
        mounts.addAll(volumeMounts(config, volumes, mounts));
        for (MountSpec mount : config.mounts()) {
            mounts.add(new Spec.Mount(mount.target(), "bind", mount.source().toString(),
                    List.of("bind", "rprivate", "nosuid", "nodev", mount.readOnly() ? "ro" : "rw")));
            // After their workspace, outermost first: the runtime resolves each destination in the mounts made so far.
            for (WorkspaceWall.Guard guard : wall.inside(mount.target())) {
                mounts.add(new Spec.Mount(guard.destination(), "bind", guard.source().toString(),
                        List.of("bind", "rprivate", "nosuid", "nodev", guard.readOnly() ? "ro" : "rw")));
            }
        }
        return mounts;
    }

    /**
     * The image's VOLUMEs: as Docker gives each an anonymous volume, a cage gives each a tmpfs of
     * its own (empty, the cage user's, the tmpfs size), unless a configured mount or one of the
     * cage's own mounts is at that path or above it; kernel file systems are never covered.
     */
    static List<Spec.Mount> volumeMounts(CageConfig config, List<String> volumes, List<Spec.Mount> cageMounts) {
        List<Spec.Mount> tmpfs = new ArrayList<>();
        List<String> covered = new ArrayList<>(cageMounts.stream().map(Spec.Mount::destination).toList());
        config.mounts().forEach(mount -> covered.add(mount.target()));
        for (String volume : volumes) {
            String path = java.nio.file.Path.of("/").resolve(volume).normalize().toString();
            boolean kernel = MountSpec.FORBIDDEN_TARGETS.stream().anyMatch(target -> isAtOrBelow(path, target));
            if (path.equals("/") || kernel || covered.stream().anyMatch(target -> isAtOrBelow(path, target))) {
                continue;
            }
            tmpfs.add(new Spec.Mount(path, "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=755",
                    "uid=" + config.uid(), "gid=" + config.gid(), "size=" + config.tmpfsBytes())));
            covered.add(path);
        }
        return tmpfs;
    }

    private static boolean isAtOrBelow(String path, String target) {
        return path.equals(target) || path.startsWith(target.endsWith("/") ? target : target + "/");
    }

    private static Spec.Linux linux(CageConfig config, CageRequest request) {
        Spec.Resources resources = new Spec.Resources(
                List.of(new Spec.DeviceRule(false, "rwm")),
                new Spec.Memory(config.memoryBytes(), config.memoryBytes()),
                new Spec.Cpu(Math.round(config.cpus() * CPU_PERIOD_MICROS), CPU_PERIOD_MICROS),
                new Spec.Pids(config.pidsLimit()));
        IdBlock ids = request.ids();
        // The cage's ids 0 to 65535 are its block's host ids: its uid 1000 is nobody's on the host.
        return new Spec.Linux(namespaces(request.network(), ids), resources,
                CGROUP_PARENT + "/" + request.containerId(), request.seccomp(), MASKED_PATHS, READONLY_PATHS,
                ids == null ? null : List.of(new Spec.IdMapping(0, ids.uid(), IdBlock.SIZE)),
                ids == null ? null : List.of(new Spec.IdMapping(0, ids.gid(), IdBlock.SIZE)));
    }
}
