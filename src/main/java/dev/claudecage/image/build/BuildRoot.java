package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.image.store.LinuxFiles;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.OciRuntime;
import dev.claudecage.runtime.StatePaths;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The root one build step works in: an overlay of the layers so far (read-only, shared) and a
 * fresh upper directory that becomes the step's layer. The upper and overlayfs's work directory
 * live in the store's tmp/ (so the layer is committed by a rename); the mount point and the
 * runtime bundle live under the run directory, like a cage's.
 * <p>
 * {@link #close()} deletes the step's container if it started one, unmounts, and removes every
 * directory the step made that did not become a layer; it is safe to call twice and from a
 * shutdown hook.
 */
final class BuildRoot implements SignalSafe.Resource {

    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration RUNTIME_EXIT = Duration.ofSeconds(10);

    private final String id;
    private final Path runDirectory;
    private final ImageStore store;
    private final StatePaths paths;
    private final ProcessRunner runner;
    private Path workDirectory;
    private OciRuntime containerRuntime;
    private Process runtimeProcess;
    private boolean mounted;
    private boolean closed;

    /** A root not mounted yet: guard it first (see {@link SignalSafe}), then {@link #mount}. */
    BuildRoot(String id, ImageStore store, StatePaths paths, ProcessRunner runner) {
        this.id = id;
        this.runDirectory = paths.runs().resolve(id);
        this.store = store;
        this.paths = paths;
        this.runner = runner;
    }

    /**
     * Mounts the root over {@code lowerTopFirst} (none: an empty root, as for FROM scratch).
     * Mounting and closing exclude each other, so a close() from a signal handler never misses
     * a directory or mount that is being made.
     */
    synchronized void mount(List<Path> lowerTopFirst) {
        if (closed) {
            throw new CageException("the build was stopped");
        }
        try {
            workDirectory = store.createWorkDirectory(id);
            Directories.createPrivate(paths.runs());
            Directories.createPrivate(runDirectory);
            Files.createDirectories(root());
            // The upper's root directory becomes the image's "/" when it is the top layer: 0755, like any root.
            Files.createDirectory(upper());
            Files.setPosixFilePermissions(upper(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createDirectory(workDirectory.resolve("work"));
            List<Path> lowers = new ArrayList<>(lowerTopFirst);
            if (lowers.isEmpty()) {
                lowers.add(Files.createDirectory(workDirectory.resolve("empty")));
            }
            runner.run(Cage.overlayMountCommand(lowers, upper(), workDirectory.resolve("work"), root(),
                    LinuxFiles.overlayAttributesHere()), MOUNT_TIMEOUT);
            mounted = true;
        } catch (IOException e) {
            throw new CageException("cannot prepare the build root " + runDirectory + ": " + e.getMessage());
        }
    }

    String id() {
        return id;
    }

    Path bundle() {
        return runDirectory.resolve("bundle");
    }

    /** The merged root, where the step reads and writes. */
    Path root() {
        return bundle().resolve(SpecBuilder.ROOTFS_DIR);
    }

    Path runtimeLog() {
        return runDirectory.resolve("runtime.log");
    }

    private Path upper() {
        return workDirectory.resolve("upper");
    }

    /**
     * Starts the step's container with {@code start} (the runtime in the foreground), unless this
     * root is closed already. Starting and closing exclude each other, so close() always knows
     * the container it has to delete.
     */
    synchronized StreamedCommand startContainer(OciRuntime runtime, Supplier<StreamedCommand> start) {
        if (closed) {
            throw new CageException("the build was stopped");
        }
        StreamedCommand command = start.get();
        containerRuntime = runtime;
        runtimeProcess = command.process();
        return command;
    }

    /**
     * Unmounts and hands over what the step wrote: the upper directory, or null when the step
     * changed nothing. The caller commits it as a layer (which moves it) before close().
     */
    synchronized Path finish() {
        unmount();
        Path upper = upper();
        try (var entries = Files.list(upper)) {
            return entries.findAny().isPresent() ? upper : null;
        } catch (IOException e) {
            throw new CageException("cannot read the step's changes in " + upper + ": " + e.getMessage());
        }
    }

    private void unmount() {
        if (!mounted) {
            return;
        }
        CommandResult result = runner.runAllowingFailure(List.of("umount", root().toString()), MOUNT_TIMEOUT);
        if (!result.succeeded()) {
            throw new CageException("cannot unmount the build root " + root() + ": " + result.stderr().strip());
        }
        mounted = false;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> failures = new ArrayList<>();
        if (containerRuntime != null) {
            try {
                containerRuntime.forceDelete(id);
                // The runtime cleans up after its container as it exits; unmounting waits for that.
                if (!runtimeProcess.waitFor(RUNTIME_EXIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    runtimeProcess.destroyForcibly().waitFor(RUNTIME_EXIT.toMillis(), TimeUnit.MILLISECONDS);
                }
                // A runtime stopped while it was still creating the container may have made it after all.
                containerRuntime.forceDelete(id);
            } catch (RuntimeException e) {
                failures.add("delete container: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add("interrupted while the container was deleted");
            }
        }
        try {
            unmount();
        } catch (CageException e) {
            failures.add(e.getMessage());
        }
        for (Path directory : workDirectory == null ? List.of(runDirectory) : List.of(runDirectory, workDirectory)) {
            try {
                Directories.deleteRecursively(directory);
            } catch (IOException e) {
                failures.add("remove " + directory + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new CageException("cleanup of build step " + id + " was incomplete: " + String.join("; ", failures),
                    "unmount and remove what is left by hand once the cause is fixed");
        }
    }
}
