package dev.claudecage.runtime;

import dev.claudecage.image.store.LinuxFiles;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.host.Directories;
import dev.claudecage.host.IdBlock;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.host.Mounter;
import dev.claudecage.host.Mounts;
import dev.claudecage.host.RandomNames;
import dev.claudecage.json.Json;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.Stdio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A prepared cage: its bundle directory (config.json, 0600, in a 0700 folder) and its root, an
 * overlay whose lower layers are the shared, untouched image layers (or one rootfs directory)
 * and whose upper layer is a per-cage folder. The runtime creates mount points in the upper
 * layer, so the image is never written to and starting a cage copies nothing.
 * <p>
 * Rootless, the root is mounted, and the runtime runs, as root of the cage's user namespace
 * ({@code scope}); what they create belongs to subordinate ids, so it is removed from in there too.
 * <p>
 * {@link #close()} removes everything the cage left, as far as it can, and reports every step
 * that failed; it is safe to call twice and from a shutdown hook.
 */
public final class Cage implements AutoCloseable {

    /** A session's cage id: s-NAME-random, from {@link #newId}("s-" + NAME). */
    public static final Pattern SESSION_ID = Pattern.compile("s-([a-z0-9][a-z0-9-]{0,31})-[0-9a-f]{12}");
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);
    /** How long a runtime that still runs when its cage is removed gets to clean up and exit. */
    private static final Duration RUNTIME_EXIT = Duration.ofSeconds(10);

    private final String id;
    private final Layout layout;
    private final OciRuntime runtime;
    private final ProcessRunner runner;
    private final CommandScope scope;
    /** Mounts and unmounts the root where {@link #scope} is this process's own. */
    private final Mounter mounts;
    private final Teardown teardown;
    /** Whether the container is known to be gone: until then, its placeholders and run folder stay. */
    private volatile boolean containerGone = true;
    private volatile boolean rootMounted;
    /** The runtime process that runs the container, once started. */
    private volatile Process runtimeProcess;
    /** What the runtime's run needs of the spec written ({@link OciRuntime#runOptions}). */
    private OciRuntime.RunOptions runOptions = OciRuntime.RunOptions.NONE;

    private Cage(String id, Layout layout, OciRuntime runtime, ProcessRunner runner, CommandScope scope, Mounter mounts) {
        this.id = id;
        this.mounts = mounts;
        this.layout = layout;
        this.runtime = runtime;
        this.runner = runner;
        this.scope = scope;
        this.teardown = new Teardown("cleanup of cage " + id, Teardown.GC_REMOVES_THE_REST);
    }

    /**
     * Where a cage's root is made: its run folder (the bundle, the runtime's log, the placeholders'
     * record) and the overlay's upper and work folders, which for a cage lie in its run folder and
     * for an image build's step in the image store, so that what the step wrote becomes a layer by
     * a rename.
     */
    public record Layout(Path directory, Path upper, Path work) {
        static Layout inRunFolder(Path directory) {
            return new Layout(directory, directory.resolve("upper"), directory.resolve("work"));
        }
    }

    /** A fresh container id: the prefix says what made it, the rest is random. */
    public static String newId(String prefix) {
        return prefix + "-" + RandomNames.hex(6);
    }

    /** Fails, saying what to do, unless every one of {@code lowerLayers} is a folder. */
    static void requireLayers(List<Path> lowerLayers) {
        for (Path rootfs : lowerLayers) {
            if (!Files.isDirectory(rootfs)) {
                throw new CageException("rootfs " + rootfs + " is not a directory",
                        "build one with: sudo rootfs-builder/make-minbase-rootfs.sh " + rootfs);
            }
        }
    }

    /**
     * Prepares a cage whose root is an overlay of {@code lowerLayers}, top layer first, and makes
     * the {@code placeholders} the spec's workspace guards sit on (removed by {@link #close()}).
     *
     * @param ids the cage's own host ids, whose layers {@code lowerLayers} are idmapped into; null when it
     *            shares the host's
     */
    static Cage prepare(String id, List<Path> lowerLayers, Spec spec, List<Placeholders.Placeholder> placeholders,
                        StatePaths paths, OciRuntime runtime, ProcessRunner runner, CommandScope scope, IdBlock ids,
                        Mounter mounts) {
        requireLayers(lowerLayers);
        Layout layout = Layout.inRunFolder(paths.bundle(id).getParent());
        LinuxFiles.OverlayAttributes attributes = scope == CommandScope.HOST ? LinuxFiles.OverlayAttributes.TRUSTED
                : LinuxFiles.OverlayAttributes.USER;
        Cage cage = mountRoot(id, lowerLayers, layout, attributes, paths, runtime, runner, scope, ids, mounts);
        try {
            cage.writeSpec(spec);
            Placeholders.create(placeholders, layout.directory().resolve(Placeholders.RECORD));
            return cage;
        } catch (RuntimeException e) {
            throw Teardown.closeAfter(cage, e);
        }
    }

    /**
     * Mounts a cage's root in {@code layout}: an overlay of {@code lowerLayers}, top first, keeping
     * its own marks in {@code attributes}; its bundle waits for a spec ({@link #writeSpec}). An
     * image build's steps are cages made this way.
     *
     * @param ids the cage's own host ids, which its runtime mounts the root as; null when it shares the host's
     */
    public static Cage mountRoot(String id, List<Path> lowerLayers, Layout layout,
                                 LinuxFiles.OverlayAttributes attributes, StatePaths paths, OciRuntime runtime,
                                 ProcessRunner runner, CommandScope scope, IdBlock ids) {
        return mountRoot(id, lowerLayers, layout, attributes, paths, runtime, runner, scope, ids, Mounts.SYSTEM_CALLS);
    }

    private static Cage mountRoot(String id, List<Path> lowerLayers, Layout layout,
                                  LinuxFiles.OverlayAttributes attributes, StatePaths paths, OciRuntime runtime,
                                  ProcessRunner runner, CommandScope scope, IdBlock ids, Mounter mounts) {
        Path directory = layout.directory();
        Cage cage = new Cage(id, layout, runtime, runner, scope, mounts);
        try {
            if (scope != CommandScope.HOST) {
                // Made by us rather than by the runtime, so that the user, not a subordinate id, owns it.
                Directories.createPrivate(runtime.stateRoot());
            }
            if (scope == CommandScope.HOST) {
                // Cages with ids of their own pass through on the way to their root (letThroughToItsRoot);
                // never 0700 for a moment, or a cage starting then could not.
                Files.createDirectories(paths.runs());
                Files.setPosixFilePermissions(paths.runs(), PosixFilePermissions.fromString("rwx--x--x"));
            } else {
                Directories.createPrivate(paths.runs());
            }
            cage.teardown.push("remove " + directory, cage::removeFolder);
            Directories.createPrivate(directory);
            Files.createDirectories(cage.root());
            Files.createDirectories(layout.upper());
            Files.createDirectories(layout.work());
            if (scope != CommandScope.HOST) {
                // The upper folder is the cage's "/": it must be the namespace's root's, not the user's,
                // whom the cage's own user is.
                runner.run(scope.wrap(List.of("chown", "0:0", layout.upper().toString(), layout.work().toString())),
                        MOUNT_TIMEOUT);
            }
            if (ids != null) {
                letThroughToItsRoot(layout, ids);
            }
            cage.teardown.push("remove the placeholders", cage::removePlaceholders);
            if (scope == CommandScope.HOST) {
                mounts.overlay(overlayOptions(lowerLayers, layout.upper(), layout.work(), attributes), cage.root(),
                        "the root of cage " + id);
            } else {
                runner.run(scope.wrap(overlayMountCommand(lowerLayers, layout.upper(), layout.work(), cage.root(),
                        attributes)), MOUNT_TIMEOUT);
            }
            cage.rootMounted = true;
            cage.teardown.push("unmount root", () -> {
                if (cage.rootMounted) {
                    cage.unmountRoot();
                }
            });
            // Undone first: from here on, the runtime may make the container.
            cage.teardown.push("delete container", cage::deleteContainer);
            return cage;
        } catch (IOException | RuntimeException e) {
            CageException failure = e instanceof CageException cageException ? cageException
                    : new CageException("cannot prepare cage " + id + " in " + directory + ": " + e.getMessage());
            throw Teardown.closeAfter(cage, failure);
        }
    }

    /**
     * The runtime mounts the cage's root from inside the cage's user namespace, as the cage's root,
     * whose host ids are {@code ids}' first: it must pass through the folders on the way. The run
     * folder lets everyone pass but list nothing; the cage's own folder and bundle let in only its
     * root's group (and root). The upper layer's top is the cage's "/", its root's.
     */
    private static void letThroughToItsRoot(Layout layout, IdBlock ids) throws IOException {
        for (Path folder : List.of(layout.directory(), layout.directory().resolve("bundle"))) {
            letThroughItsRoot(folder, ids);
        }
        Path upper = layout.upper();
        Files.setAttribute(upper, "unix:gid", Math.toIntExact(ids.gid()), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(upper, "unix:uid", Math.toIntExact(ids.uid()), LinkOption.NOFOLLOW_LINKS);
    }

    /** Lets the root of a cage with {@code ids} pass through {@code folder} (its group, and root), listing nothing. */
    static void letThroughItsRoot(Path folder, IdBlock ids) throws IOException {
        Files.setAttribute(folder, "unix:gid", Math.toIntExact(ids.gid()), LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx--x---"));
    }

    public String id() {
        return id;
    }

    /** After {@link #close()}: whether the runtime's container is gone, so that nothing of the cage can still run. */
    boolean containerRemoved() {
        return containerGone;
    }

    public Path bundle() {
        return layout.directory().resolve("bundle");
    }

    /** The merged root, which the cage sees as "/". */
    public Path root() {
        return bundle().resolve(SpecBuilder.ROOTFS_DIR);
    }

    public RuntimeLog log() {
        return new RuntimeLog(layout.directory().resolve("runtime.log"));
    }

    public OciRuntime runtime() {
        return runtime;
    }

    /** Writes the bundle's config.json (0600), as the runtime must get it ({@link OciRuntime#adapt}). */
    public void writeSpec(Spec spec) {
        Spec adapted = runtime.adapt(spec);
        runOptions = runtime.runOptions(adapted);
        try {
            Directories.writePrivateFile(bundle().resolve("config.json"), Json.writePlainRecord(adapted));
        } catch (IOException e) {
            throw new CageException("cannot write the bundle of cage " + id + " in " + bundle() + ": " + e.getMessage());
        }
    }

    /** Starts the runtime in the foreground on this cage's bundle, its stdio on {@code stdio}. */
    public Process start(Stdio stdio) {
        Process process = runtime.startRun(id, bundle(), log(), runOptions, stdio);
        runsIn(process);
        // The teardown removes the cage's folders without following its links, through the C library.
        LinuxSyscalls.loadInBackground();
        return process;
    }

    /** The command line that runs this cage in the foreground, for a caller that starts it itself ({@link #runsIn}). */
    public List<String> runCommand() {
        return runtime.runCommand(id, bundle(), log(), runOptions);
    }

    /** The runtime process that runs this cage: its removal waits for it, so that the runtime's own cleanup is over. */
    public void runsIn(Process process) {
        runtimeProcess = process;
    }

    /** Unmounts the root now (a build step's, before its upper folder becomes a layer). */
    public void unmountRoot() {
        if (scope == CommandScope.HOST) {
            mounts.unmount(root(), false, "the root of cage " + id);
        } else {
            runner.remove(scope.wrap(List.of("umount", root().toString())), MOUNT_TIMEOUT);
        }
        rootMounted = false;
    }

    /**
     * The command that mounts an overlay of {@code lowerLayers} (top first) on {@code target},
     * writable into {@code upper}, or read-only when {@code upper} and {@code work} are null
     * (overlayfs needs two lower layers or more for that), keeping its own marks in {@code attributes}.
     */
    public static List<String> overlayMountCommand(List<Path> lowerLayers, Path upper, Path work, Path target,
                                                   LinuxFiles.OverlayAttributes attributes) {
        return List.of("mount", "-t", "overlay", "-o", overlayOptions(lowerLayers, upper, work, attributes), "overlay",
                target.toString());
    }

    /** overlayfs's options for {@link #overlayMountCommand}, as the kernel takes them. */
    static String overlayOptions(List<Path> lowerLayers, Path upper, Path work, LinuxFiles.OverlayAttributes attributes) {
        StringBuilder options = new StringBuilder(attributes.mountOptions()).append("lowerdir=").append(lowerLayers.stream()
                .map(layer -> escapeOverlayPath(layer.toAbsolutePath().toString()))
                .collect(Collectors.joining(":")));
        if (upper != null) {
            options.append(",upperdir=").append(escapeOverlayPath(upper.toString()))
                    .append(",workdir=").append(escapeOverlayPath(work.toString()));
        }
        return options.toString();
    }

    /** Overlayfs splits its options on commas and its layer lists on colons. */
    static String escapeOverlayPath(String path) {
        return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:");
    }

    private void deleteContainer() throws InterruptedException {
        Process process = runtimeProcess;
        if (process == null) {
            // No runtime was started on the bundle: there is no container.
            return;
        }
        boolean running = process.isAlive();
        if (running || !runtime.removedAfterItsRun(id)) {
            containerGone = false;
            runtime.forceDelete(id);
            if (running) {
                // The runtime cleans up after its container as it exits; unmounting the root waits for that.
                if (!process.waitFor(RUNTIME_EXIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(RUNTIME_EXIT.toMillis(), TimeUnit.MILLISECONDS);
                }
                // A runtime stopped while it was still creating the container may have made it after all.
                runtime.forceDelete(id);
            }
            containerGone = true;
        }
        CageCgroups.removeLeftovers(CageCgroups.ROOT, id);
    }

    /** A cage that may still run keeps its placeholders under their mounts, and the record for gc. */
    private void removePlaceholders() {
        if (containerGone) {
            Placeholders.removeRecorded(layout.directory().resolve(Placeholders.RECORD))
                    .forEach(problem -> System.err.println("claude-cage: " + problem));
        }
    }

    private void removeFolder() throws IOException {
        if (!containerGone && Files.exists(layout.directory().resolve(Placeholders.RECORD))) {
            return;
        }
        if (scope != CommandScope.HOST) {
            // What the cage wrote belongs to subordinate ids: removed from inside its user namespace.
            runner.run(scope.wrap(List.of("rm", "-rf", "--one-file-system", layout.upper().toString(),
                    layout.work().toString())), MOUNT_TIMEOUT);
        }
        Directories.deleteRecursively(layout.directory());
    }

    /** Removes everything the cage left, as far as it can, and reports every step that failed. */
    @Override
    public void close() {
        teardown.close();
    }
}
