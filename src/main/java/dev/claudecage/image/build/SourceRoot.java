package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.image.store.LinuxFiles;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.StatePaths;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The root of another stage or image, for {@code COPY --from}, only ever read: with no layer an
 * empty directory, with one that layer's directory, with more a read-only overlay mount.
 * Opening and closing exclude each other, like {@link BuildRoot}'s mount and close.
 */
final class SourceRoot implements SignalSafe.Resource {

    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);

    private final Path directory;
    private final ImageStore store;
    private final StatePaths paths;
    private final ProcessRunner runner;
    private Path path;
    private boolean mounted;
    private boolean closed;

    /** A source not opened yet: guard it first (see {@link SignalSafe}), then {@link #open}. */
    SourceRoot(String id, ImageStore store, StatePaths paths, ProcessRunner runner) {
        this.directory = paths.runs().resolve(id);
        this.store = store;
        this.paths = paths;
        this.runner = runner;
    }

    synchronized void open(ImageConfig image) {
        if (closed) {
            throw new CageException("the build was stopped");
        }
        List<Path> layers = new ArrayList<>();
        image.layers().forEach(layer -> layers.add(store.layerDirectory(layer)));
        Collections.reverse(layers);
        try {
            Directories.createPrivate(paths.runs());
            Directories.createPrivate(directory);
            path = Files.createDirectory(directory.resolve("rootfs"));
            if (layers.size() == 1) {
                path = layers.get(0);
            } else if (layers.size() > 1) {
                runner.run(Cage.overlayMountCommand(layers, null, null, path, LinuxFiles.overlayAttributesHere()), MOUNT_TIMEOUT);
                mounted = true;
            }
        } catch (IOException e) {
            throw new CageException("cannot open the COPY --from source in " + directory + ": " + e.getMessage());
        }
    }

    synchronized Path path() {
        return path;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (mounted) {
            CommandResult result = runner.runAllowingFailure(List.of("umount", path.toString()), MOUNT_TIMEOUT);
            if (!result.succeeded()) {
                throw new CageException("cannot unmount the COPY --from source " + path + ": " + result.stderr().strip());
            }
        }
        try {
            Directories.deleteRecursively(directory);
        } catch (IOException e) {
            throw new CageException("cannot remove " + directory + ": " + e.getMessage());
        }
    }
}
