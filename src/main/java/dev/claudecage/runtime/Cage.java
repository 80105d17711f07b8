package dev.claudecage.runtime;

import dev.claudecage.image.store.LinuxFiles;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.identity.IdBlock;
import dev.claudecage.json.Json;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String id;
    private final Path directory;
    private final OciRuntime runtime;
    private final ProcessRunner runner;
    private final CommandScope scope;
    private final AtomicBoolean closed = new AtomicBoolean();
    private boolean rootMounted;
    private volatile boolean containerRemoved;

    private Cage(String id, Path directory, OciRuntime runtime, ProcessRunner runner, CommandScope scope) {
        this.id = id;
        this.directory = directory;
        this.runtime = runtime;
        this.runner = runner;
        this.scope = scope;
    }

    /** A fresh container id: the prefix says what made it, the rest is random. */
    public static String newId(String prefix) {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return prefix + "-" + HexFormat.of().formatHex(bytes);
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
                        StatePaths paths, OciRuntime runtime, ProcessRunner runner, CommandScope scope, IdBlock ids) {
        requireLayers(lowerLayers);
        Path directory = paths.bundle(id).getParent();
        Cage cage = new Cage(id, directory, runtime, runner, scope);
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
            Directories.createPrivate(directory);
            for (String sub : List.of("bundle", "bundle/" + SpecBuilder.ROOTFS_DIR, "upper", "work")) {
                Files.createDirectories(directory.resolve(sub));
            }
            if (scope != CommandScope.HOST) {
                // The upper folder is the cage's "/": it must be the namespace's root's, not the user's,
                // whom the cage's own user is.
                runner.run(scope.wrap(List.of("chown", "0:0", directory.resolve("upper").toString(),
                        directory.resolve("work").toString())), MOUNT_TIMEOUT);
            }
            if (ids != null) {
                letThroughToItsRoot(directory, ids);
            }
            cage.mountRoot(lowerLayers);
            Directories.writePrivateFile(cage.bundle().resolve("config.json"), Json.write(spec));
            Placeholders.create(placeholders, directory.resolve(Placeholders.RECORD));
            return cage;
        } catch (IOException | RuntimeException e) {
            cage.close();
            if (e instanceof CageException cageException) {
                throw cageException;
            }
            throw new CageException("cannot prepare cage " + id + " in " + directory + ": " + e.getMessage());
        }
    }

    /**
     * The runtime mounts the cage's root from inside the cage's user namespace, as the cage's root,
     * whose host ids are {@code ids}' first: it must pass through the folders on the way. The run
     * folder lets everyone pass but list nothing; the cage's own folder and bundle let in only its
     * root's group (and root). The upper layer's top is the cage's "/", its root's.
     */
    private static void letThroughToItsRoot(Path directory, IdBlock ids) throws IOException {
        for (Path folder : List.of(directory, directory.resolve("bundle"))) {
            Files.setAttribute(folder, "unix:gid", Math.toIntExact(ids.gid()), LinkOption.NOFOLLOW_LINKS);
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx--x---"));
        }
        Path upper = directory.resolve("upper");
        Files.setAttribute(upper, "unix:gid", Math.toIntExact(ids.gid()), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(upper, "unix:uid", Math.toIntExact(ids.uid()), LinkOption.NOFOLLOW_LINKS);
    }

    public String id() {
        return id;
    }

    /** After {@link #close()}: whether the runtime's container is gone, so that nothing of the cage can still run. */
    boolean containerRemoved() {
        return containerRemoved;
    }

    public Path bundle() {
        return directory.resolve("bundle");
    }

    public RuntimeLog log() {
        return new RuntimeLog(directory.resolve("runtime.log"));
    }

    public OciRuntime runtime() {
        return runtime;
    }

    private void mountRoot(List<Path> lowerLayers) {
        LinuxFiles.OverlayAttributes attributes = scope == CommandScope.HOST ? LinuxFiles.OverlayAttributes.TRUSTED
                : LinuxFiles.OverlayAttributes.USER;
        runner.run(scope.wrap(overlayMountCommand(lowerLayers, directory.resolve("upper"), directory.resolve("work"),
                bundle().resolve(SpecBuilder.ROOTFS_DIR), attributes)), MOUNT_TIMEOUT);
        rootMounted = true;
    }

    /**
     * The command that mounts an overlay of {@code lowerLayers} (top first) on {@code target},
     * writable into {@code upper}, or read-only when {@code upper} and {@code work} are null
     * (overlayfs needs two lower layers or more for that), keeping its own marks in {@code attributes}.
     */
    public static List<String> overlayMountCommand(List<Path> lowerLayers, Path upper, Path work, Path target,
                                                   LinuxFiles.OverlayAttributes attributes) {
        StringBuilder options = new StringBuilder(attributes.mountOptions()).append("lowerdir=").append(lowerLayers.stream()
                .map(layer -> escapeOverlayPath(layer.toAbsolutePath().toString()))
                .collect(Collectors.joining(":")));
        if (upper != null) {
            options.append(",upperdir=").append(escapeOverlayPath(upper.toString()))
                    .append(",workdir=").append(escapeOverlayPath(work.toString()));
        }
        return List.of("mount", "-t", "overlay", "-o", options.toString(), "overlay", target.toString());
    }

    /** Overlayfs splits its options on commas and its layer lists on colons. */
    static String escapeOverlayPath(String path) {
        return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:");
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<String> failures = new ArrayList<>();
        boolean containerGone = true;
        try {
            runtime.forceDelete(id);
        } catch (RuntimeException e) {
            failures.add("delete container: " + e.getMessage());
            containerGone = false;
        }
        containerRemoved = containerGone;
        if (rootMounted) {
            var result = runner.runAllowingFailure(
                    scope.wrap(List.of("umount", bundle().resolve(SpecBuilder.ROOTFS_DIR).toString())), MOUNT_TIMEOUT);
            if (!result.succeeded()) {
                failures.add("unmount root: " + result.stderr().strip());
            }
        }
        Path placeholderRecord = directory.resolve(Placeholders.RECORD);
        if (containerGone) {
            Placeholders.removeRecorded(placeholderRecord).forEach(problem -> System.err.println("claude-cage: " + problem));
        }
        // A cage that may still run keeps its placeholders under their mounts, and the record for gc.
        if (containerGone || !Files.exists(placeholderRecord)) {
            if (scope != CommandScope.HOST) {
                var result = runner.runAllowingFailure(scope.wrap(List.of("rm", "-rf", "--one-file-system",
                        directory.resolve("upper").toString(), directory.resolve("work").toString())), MOUNT_TIMEOUT);
                if (!result.succeeded()) {
                    failures.add("remove the root's upper layer: " + result.stderr().strip());
                }
            }
            try {
                Directories.deleteRecursively(directory);
            } catch (IOException e) {
                failures.add("remove " + directory + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new CageException("cleanup of cage " + id + " was incomplete: " + String.join("; ", failures),
                    "claude-cage gc removes what is left once the cause is fixed");
        }
    }
}
