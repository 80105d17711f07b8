package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.host.Directories;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.LinuxFiles;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.OciRuntime;
import dev.claudecage.runtime.StatePaths;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The root one build step works in: a cage of the runtime's own ({@link Cage#mountRoot}), whose
 * overlay's lower layers are the layers so far (read-only, shared) and whose upper folder becomes
 * the step's layer. The upper and overlayfs's work folder live in the store's tmp/ (so the layer is
 * committed by a rename); the mount point and the runtime bundle live under the run folder, like
 * every cage's.
 * <p>
 * {@link #close()} removes the step's cage (its container, if it started one, the mount, the run
 * folder) and what of its work folder did not become a layer; it is safe to call twice and from a
 * shutdown hook.
 */
final class BuildRoot implements SignalSafe.Resource {

    private final String id;
    private final ImageStore store;
    private final StatePaths paths;
    private final OciRuntime runtime;
    private final ProcessRunner runner;
    private final Teardown teardown = new Teardown("cleanup of a build step",
            "unmount and remove what is left by hand once the cause is fixed");
    private Cage cage;
    private Path upper;
    private boolean closed;

    /** A root not mounted yet: guard it first (see {@link SignalSafe}), then {@link #mount}. */
    BuildRoot(String id, ImageStore store, StatePaths paths, OciRuntime runtime, ProcessRunner runner) {
        this.id = id;
        this.store = store;
        this.paths = paths;
        this.runtime = runtime;
        this.runner = runner;
    }

    /**
     * Mounts the root over {@code lowerTopFirst} (none: an empty root, as for FROM scratch).
     * Mounting and closing exclude each other, so a close() from a signal handler never misses
     * a folder or mount that is being made.
     */
    synchronized void mount(List<Path> lowerTopFirst) {
        if (closed) {
            throw new CageException("the build was stopped");
        }
        Path workDirectory = store.createWorkDirectory(id);
        teardown.push("remove " + workDirectory, () -> Directories.deleteRecursively(workDirectory));
        try {
            upper = workDirectory.resolve("upper");
            // The upper's root folder becomes the image's "/" when it is the top layer: 0755, like any root.
            Files.createDirectory(upper);
            Files.setPosixFilePermissions(upper, PosixFilePermissions.fromString("rwxr-xr-x"));
            List<Path> lowers = new ArrayList<>(lowerTopFirst);
            if (lowers.isEmpty()) {
                lowers.add(Files.createDirectory(workDirectory.resolve("empty")));
            }
            cage = teardown.push("remove the step's cage " + id, Cage.mountRoot(id, lowers,
                    new Cage.Layout(paths.runs().resolve(id), upper, workDirectory.resolve("work")),
                    LinuxFiles.overlayAttributesHere(), paths, runtime, runner, CommandScope.HOST, null));
        } catch (IOException e) {
            throw new CageException("cannot prepare the build root in " + workDirectory + ": " + e.getMessage());
        }
    }

    String id() {
        return id;
    }

    Cage cage() {
        return cage;
    }

    /** The merged root, where the step reads and writes. */
    Path root() {
        return cage.root();
    }

    /**
     * Starts the step's container with {@code start} (the runtime in the foreground), unless this
     * root is closed already. Starting and closing exclude each other, so close() always knows
     * the container it has to delete.
     */
    synchronized StreamedCommand startContainer(Supplier<StreamedCommand> start) {
        if (closed) {
            throw new CageException("the build was stopped");
        }
        StreamedCommand command = start.get();
        cage.runsIn(command.process());
        return command;
    }

    /**
     * Unmounts and hands over what the step wrote: the upper folder, or null when the step
     * changed nothing. The caller commits it as a layer (which moves it) before close().
     */
    synchronized Path finish() {
        cage.unmountRoot();
        try (var entries = Files.list(upper)) {
            return entries.findAny().isPresent() ? upper : null;
        } catch (IOException e) {
            throw new CageException("cannot read the step's changes in " + upper + ": " + e.getMessage());
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        teardown.close();
    }
}
