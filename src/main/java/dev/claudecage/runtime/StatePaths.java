package dev.claudecage.runtime;

import dev.claudecage.host.StateLayout;
import dev.claudecage.identity.IdAllocations;

import java.nio.file.Path;

/**
 * Where claude-cage keeps runtime state: under {@code /run/claude-cage} as root, under
 * {@code $XDG_RUNTIME_DIR/claude-cage} rootless ({@link StateLayout}). Everything there is gone
 * after a reboot, by design.
 */
public record StatePaths(Path runtimeState, Path runs) {

    /** A cage's bundle: its config.json and the mount point of its root. */
    public Path bundle(String cageId) {
        return runs.resolve(cageId).resolve("bundle");
    }

    /** Held while a cage's addresses are chosen, so that two cages never get the same. */
    public Path networkLock() {
        return runs.resolveSibling("network.lock");
    }

    /** Held while a cage claims the folders it writes, so that two cages never both claim one ({@link WorkspaceClaims}). */
    public Path workspacesLock() {
        return runs.resolveSibling("workspaces.lock");
    }

    /** Where a cage's shifted (idmapped) mounts wait for the runtime to bind them. */
    public Path stagedMounts(String cageId) {
        return runs.resolveSibling("mounts").resolve(cageId);
    }

    /** Which cage holds which block of host ids ({@code userns_pool}), and the lock they are handed out under. */
    public IdAllocations idAllocations() {
        return new IdAllocations(runs.resolveSibling("userns"), runs.resolveSibling("userns.lock"));
    }

    /** A filtered cage's network files (its resolv.conf, the audit log of a one-shot run). */
    public Path networkState(String cageId) {
        return runs.resolveSibling("net").resolve(cageId);
    }

    /** The paths for this process's user. */
    public static StatePaths current() {
        return of(StateLayout.current());
    }

    public static StatePaths of(StateLayout layout) {
        Path run = layout.run();
        return new StatePaths(run.resolve("runtime"), run.resolve("runs"));
    }
}
