package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.CgroupLayout;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.Host;
import dev.claudecage.host.StateLayout;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.rootless.CgroupDelegation;
import dev.claudecage.rootless.NamespaceReexec;
import dev.claudecage.rootless.RootlessHost;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The image commands that write the store, rootless: run again as root of the user's namespace,
 * so that layers belong to the ids the user's cages see, and the store's own files handed back to
 * the user afterwards (docs/rootless.md, Images).
 */
final class RootlessImageWrites {

    private RootlessImageWrites() {
    }

    /** The exit code of the command run again in the namespace; empty when this process should do the work. */
    static OptionalInt runInNamespace(CommandSpec spec, Context context) throws InterruptedException {
        if (Host.effectiveUid() == 0 || NamespaceReexec.owner().isPresent()) {
            // Root, or in the namespace already: this process does the work, and the configuration
            // (for the namespace's ids) is not needed, which a build answered from its record never loads.
            return OptionalInt.empty();
        }
        makeFoldersAsTheUser(context);
        CageConfig config = context.configLoader().load(Map.of()).config();
        List<String> args = spec.root().commandLine().getParseResult().originalArgs();
        return NamespaceReexec.runInside(Main.class.getName(), args, config.uid(), config.gid(), context.runner());
    }

    /**
     * The user's state folders that an image command uses, made as the user before it runs again
     * in the namespace: made in there, they would belong to the namespace's root (a subordinate
     * id), and the user, outside, could not enter the image store or start a cage again.
     */
    private static void makeFoldersAsTheUser(Context context) {
        StateLayout layout = context.layout();
        StatePaths paths = StatePaths.of(layout);
        List<Path> folders = new ArrayList<>(List.of(layout.data(), layout.images(), layout.run(),
                paths.runtimeState(), paths.runs()));
        for (RuntimeKind kind : RuntimeKind.values()) {
            folders.add(paths.runtimeState().resolve(kind.configName()));
        }
        for (Path folder : folders) {
            try {
                if (!Files.isDirectory(folder)) {
                    Directories.createPrivate(folder);
                }
            } catch (IOException e) {
                throw new CageException("cannot create " + folder + ": " + e.getMessage());
            }
        }
    }

    /** What an image command does to the store; its exit code. */
    @FunctionalInterface
    interface StoreWrite {
        int write(ImageStore store) throws InterruptedException;
    }

    /**
     * Runs {@code write} on the image store (in the user's namespace when rootless, the store
     * handed back afterwards); the command's exit code.
     */
    static int writingTheStore(CommandSpec spec, Context context, StoreWrite write) throws InterruptedException {
        OptionalInt inNamespace = runInNamespace(spec, context);
        if (inNamespace.isPresent()) {
            return inNamespace.getAsInt();
        }
        ImageStore store = context.images();
        try {
            return write.write(store);
        } finally {
            handOver(store, context);
        }
    }

    /** As {@link #writingTheStore}, with {@code write} under the store's lock. */
    @SuppressWarnings("try") // the lock is held for the whole block
    static int underStoreLock(CommandSpec spec, Context context, java.util.function.Consumer<ImageStore> write)
            throws InterruptedException {
        return writingTheStore(spec, context, store -> {
            try (FileLock lock = store.lock(message -> spec.commandLine().getErr().println(message))) {
                write.accept(store);
            }
            return 0;
        });
    }

    /**
     * Inside the namespace: what the host delegates to the user, for the build steps' specs, after
     * refusing limits it cannot enforce unless allowed; null outside (root).
     */
    static CgroupDelegation cgroups(CageConfig config) {
        OptionalInt owner = NamespaceReexec.owner();
        if (owner.isEmpty()) {
            return null;
        }
        CgroupDelegation cgroups = CgroupDelegation.detect(owner.getAsInt(), CgroupLayout.current() == CgroupLayout.V2);
        RootlessHost.requireLimits(config, cgroups);
        return cgroups;
    }

    /** Inside the namespace: the store's own files back to the user (the cage's uid there). */
    static void handOver(ImageStore store, Context context) {
        if (NamespaceReexec.owner().isEmpty()) {
            return;
        }
        CageConfig config = context.configLoader().load(Map.of()).config();
        try {
            store.handOver(config.uid(), config.gid());
        } catch (IOException e) {
            throw new CageException("cannot hand the image store back to its user: " + e.getMessage());
        }
    }
}
