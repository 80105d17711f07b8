package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.Directories;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.IdmappedMount;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.host.Mounts;
import dev.claudecage.identity.IdAllocations;
import dev.claudecage.host.IdBlock;
import dev.claudecage.identity.IdPool;
import dev.claudecage.identity.IdShift;
import dev.claudecage.identity.IdShifts;
import dev.claudecage.identity.UsernsHolder;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A root-mode cage's own host ids, and what shows the cage its files under them. Its block
 * ({@link IdBlock}) is held from {@link #allocate} until {@link #close}: the cage's user namespace
 * maps its ids 0 to 65535 onto it, so none of its processes is anybody on the host. Nothing is
 * copied or chowned: the image's layers ({@link #stageLayers}) and the binds marked
 * {@link SpecBuilder#IDMAP} (a persisted home, say) are mounted idmapped into the block, so stored
 * uid 1000 is the cage's uid 1000, and what the cage writes there is stored as the image's ids.
 * All of it is staged in the cage's staging folder, which no other account can enter (under runsc
 * the cage's own root may pass through it: {@link #stageForTheFileServer}).
 */
final class CageIdentity implements AutoCloseable {

    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);
    private static final List<String> TREE_OPTIONS = List.of("nosuid", "noexec", "nodev", "ro");

    private final String cageId;
    private final IdAllocations allocations;
    private final IdBlock block;
    private final Path stagingDir;
    private final ProcessRunner runner;
    private final List<IdmappedMount> layers = new ArrayList<>();
    private final List<IdmappedMount> binds = new ArrayList<>();
    private Path sysfs;
    private UsernsHolder namespaces;
    private boolean released;

    private CageIdentity(String cageId, IdAllocations allocations, IdBlock block, Path stagingDir, ProcessRunner runner) {
        this.cageId = cageId;
        this.allocations = allocations;
        this.block = block;
        this.stagingDir = stagingDir;
        this.runner = runner;
    }

    /** Gives cage {@code cageId} a block of {@code pool} of its own. */
    static CageIdentity allocate(String cageId, IdPool pool, StatePaths paths, ProcessRunner runner) {
        IdAllocations allocations = paths.idAllocations();
        return new CageIdentity(cageId, allocations, allocations.allocate(cageId, pool), paths.stagedMounts(cageId), runner);
    }

    IdBlock block() {
        return block;
    }

    /** The shift of the image's files and the marked binds: stored id N is the cage's id N. */
    IdShift shift() {
        return IdShift.wholeBlock(block);
    }

    /** Who the cage's user is on the host. */
    HostIds user(CageConfig config) {
        return block.host(new HostIds(config.uid(), config.gid()));
    }

    /**
     * The image's layers, top first, each mounted idmapped into the block: the overlay's lower layers.
     *
     * @throws IdmappedMount.Unsupported when this host cannot idmap them
     */
    List<Path> stageLayers(List<Path> imageLayers, IdShifts shifts) {
        List<Path> staged = new ArrayList<>();
        createStagingDir();
        for (Path layer : imageLayers) {
            IdmappedMount mount = IdmappedMount.create(layer, stagingDir.resolve("layer-" + layers.size()),
                    shifts.namespace(shift()));
            layers.add(mount);
            staged.add(mount.target());
        }
        return staged;
    }

    /**
     * Makes the cage's own user namespace, mapped onto its block, with a network namespace that it
     * owns, and holds them until the cage is removed; returns the holder's pid. A filtered cage's
     * network is built in that network namespace, and the cage joins that user namespace rather than
     * making one ({@link #stage}): its network then belongs to its user namespace. runc 1.1's exec
     * (shell, verify --session) joins the user namespace first, and from there could not enter a
     * network namespace of the host's (runc issue 4390).
     */
    long holdNamespaces() {
        if (namespaces == null) {
            namespaces = UsernsHolder.start(shift(), runner);
            // Maps it: the network is built, and the cage joins, only once its ids are the block's.
            namespaces.descriptor();
        }
        return namespaces.pid();
    }

    /** Unmounts the staged layers once the overlay is mounted: it keeps its own copies of them. */
    void detachLayers() {
        closeAll(layers, new ArrayList<>());
    }

    /**
     * The spec with each bind marked {@link SpecBuilder#IDMAP} staged idmapped into the block, and with the
     * trees the runtime cannot mount in the cage's user namespace given from the host: the kernel lets
     * only the owner of a network namespace mount its sysfs, so a cage that joins a prepared one
     * (filtered) or shares the host's gets a sysfs the host mounted for that namespace; one that shares
     * the host's pid namespace (a verify control) gets the host's /proc, read-only.
     */
    Spec stage(Spec spec, IdShifts shifts) {
        if (namespaces != null) {
            String held = "/proc/" + namespaces.pid() + "/ns/user";
            spec = spec.withLinux(spec.linux().withNamespaces(spec.linux().namespaces().stream()
                    .map(namespace -> namespace.type().equals("user") ? new Spec.Namespace("user", held) : namespace)
                    .toList()));
        }
        List<Spec.Mount> mounts = new ArrayList<>();
        for (Spec.Mount mount : spec.mounts()) {
            if (mount.type().equals("bind") && mount.options().contains(SpecBuilder.IDMAP)) {
                createStagingDir();
                IdmappedMount staged = IdmappedMount.create(Path.of(mount.source()),
                        stagingDir.resolve("bind-" + binds.size()), shifts.namespace(shift()),
                        kernelAttributes(mount.options()));
                binds.add(staged);
                mounts.add(new Spec.Mount(mount.destination(), mount.type(), staged.target().toString(),
                        unmarked(mount.options())));
            } else if (mount.type().equals("sysfs") && !spec.linux().ownsNamespace("network")) {
                mounts.add(new Spec.Mount(mount.destination(), "bind", stageSysfs(spec).toString(),
                        List.of("bind", "nosuid", "noexec", "nodev", "ro")));
            } else if (mount.type().equals("proc") && !spec.linux().ownsNamespace("pid")) {
                mounts.add(new Spec.Mount(mount.destination(), "bind", "/proc", listWith("rbind", TREE_OPTIONS)));
            } else {
                mounts.add(mount);
            }
        }
        return spec.withMounts(mounts);
    }

    /**
     * The spec as runsc's file server can open it. runsc 20221219 starts its file server (the gofer)
     * in the cage's user namespace, as the cage's root (its block's first host id), and the gofer opens
     * every bind source itself from there, where runc opens them as host root and hands them to the
     * cage already open. The folders that hold the sources are root's alone (the cage's network
     * folder, a session's, verify's fixtures, a workspace's parents): "stat ...: permission denied".
     * So each bind whose source is not staged yet is staged here as it is ({@link IdmappedMount#unshifted},
     * which follows no link), and only the staging folder lets the cage's root through: it may pass
     * (x), not list, and holds nothing but the cage's own mounts. The gofer then reaches each source's
     * own tree, under its own permissions and the spec's options, which the kernel holds the staged copy
     * to ({@link #kernelAttributes}: read-only stays read-only even to the gofer), and not
     * a file beside it: granting the cage's root this reach gives it nothing its mounts did not. The
     * cage's network folder (its resolv.conf beside the audit log of a one-shot run), the session's
     * run folder (its API key file, its plan) and the fixtures' folder stay root's.
     */
    Spec stageForTheFileServer(Spec spec) {
        List<Spec.Mount> mounts = new ArrayList<>();
        for (Spec.Mount mount : spec.mounts()) {
            if (mount.type().equals("bind") && !Path.of(mount.source()).startsWith(stagingDir)) {
                createStagingDir();
                IdmappedMount staged = IdmappedMount.unshifted(Path.of(mount.source()),
                        stagingDir.resolve("bind-" + binds.size()), mount.options().contains("rbind"),
                        kernelAttributes(mount.options()));
                binds.add(staged);
                mounts.add(new Spec.Mount(mount.destination(), mount.type(), staged.target().toString(), mount.options()));
            } else {
                mounts.add(mount);
            }
        }
        try {
            if (Files.isDirectory(stagingDir)) {
                Cage.letThroughItsRoot(stagingDir, block);
            }
        } catch (IOException e) {
            throw new CageException("cannot let cage " + cageId + "'s root through " + stagingDir + ": " + e.getMessage());
        }
        return spec.withMounts(mounts);
    }

    /** The bind's options that the kernel can hold the staged copy to: the file server then cannot go past them either. */
    static long kernelAttributes(List<String> options) {
        long attributes = 0;
        for (String option : options) {
            attributes |= switch (option) {
                case "ro" -> LinuxSyscalls.MOUNT_ATTR_RDONLY;
                case "nosuid" -> LinuxSyscalls.MOUNT_ATTR_NOSUID;
                case "nodev" -> LinuxSyscalls.MOUNT_ATTR_NODEV;
                case "noexec" -> LinuxSyscalls.MOUNT_ATTR_NOEXEC;
                default -> 0L;
            };
        }
        return attributes;
    }

    /** A sysfs of the network namespace the cage joins, or of the host's when it joins none. */
    private Path stageSysfs(Spec spec) {
        createStagingDir();
        Path target = stagingDir.resolve("sys");
        try {
            Files.createDirectories(target);
        } catch (IOException e) {
            throw new CageException("cannot prepare the mount point " + target + ": " + e.getMessage());
        }
        List<String> mount = List.of("mount", "-t", "sysfs", "-o", String.join(",", TREE_OPTIONS), "sysfs", target.toString());
        String joined = spec.linux().namespaces().stream().filter(namespace -> namespace.type().equals("network"))
                .map(Spec.Namespace::path).findFirst().orElse(null);
        List<String> command = new ArrayList<>();
        if (joined != null) {
            command.addAll(List.of("nsenter", "--net=" + joined, "--"));
        }
        command.addAll(mount);
        runner.run(command, MOUNT_TIMEOUT);
        sysfs = target;
        return target;
    }

    /** A cage without ids of its own binds marked mounts as they are. */
    static Spec withoutMarks(Spec spec) {
        return spec.withMounts(spec.mounts().stream()
                .map(mount -> mount.options().contains(SpecBuilder.IDMAP)
                        ? new Spec.Mount(mount.destination(), mount.type(), mount.source(), unmarked(mount.options()))
                        : mount)
                .toList());
    }

    private static List<String> unmarked(List<String> options) {
        return options.stream().filter(option -> !option.equals(SpecBuilder.IDMAP)).toList();
    }

    private static List<String> listWith(String first, List<String> rest) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }

    private void createStagingDir() {
        try {
            // The runtime opens what is staged here from the host: no other account needs a way in.
            Directories.createPrivate(stagingDir);
        } catch (IOException e) {
            throw new CageException("cannot create the staging folder " + stagingDir + ": " + e.getMessage());
        }
    }

    /**
     * Unmounts what was staged and, when the cage is gone for good, frees its block; while the cage
     * may still run, the block stays recorded for gc, which frees it with the cage.
     */
    void close(boolean cageGone) {
        List<String> failures = unmountAll();
        if (namespaces != null) {
            // The cage, once it runs, keeps its namespaces itself.
            namespaces.close();
            namespaces = null;
        }
        if (cageGone && !released) {
            try {
                allocations.release(cageId);
                released = true;
            } catch (CageException e) {
                failures.add(e.getMessage());
            }
        }
        throwIfAny(failures);
    }

    /** Unmounts what was staged: the layers, the binds and the sysfs; the block stays held. */
    void unmount() {
        throwIfAny(unmountAll());
    }

    private void throwIfAny(List<String> failures) {
        if (!failures.isEmpty()) {
            throw new CageException("cleanup of cage " + cageId + "'s own ids was incomplete: " + String.join("; ", failures),
                    "claude-cage gc removes what is left once the cause is fixed");
        }
    }

    private List<String> unmountAll() {
        List<String> failures = new ArrayList<>();
        closeAll(layers, failures);
        closeAll(binds, failures);
        if (sysfs != null) {
            try {
                Mounts.SYSTEM_CALLS.unmount(sysfs, false, "the sysfs staged for cage " + cageId);
                Files.deleteIfExists(sysfs);
                sysfs = null;
            } catch (IOException | CageException e) {
                failures.add("unmount and remove " + sysfs + ": " + e.getMessage());
            }
        }
        return failures;
    }

    /** As {@link #close(boolean)} for a cage that never ran. */
    @Override
    public void close() {
        close(true);
    }

    private static void closeAll(List<IdmappedMount> mounts, List<String> failures) {
        for (IdmappedMount mount : mounts) {
            try {
                mount.close();
            } catch (CageException e) {
                failures.add(e.getMessage());
            }
        }
        mounts.clear();
    }
}
