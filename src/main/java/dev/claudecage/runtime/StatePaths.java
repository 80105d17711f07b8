package dev.claudecage.runtime;

import java.nio.file.Path;

/** Where claude-cage keeps runtime state. Everything under {@code /run} is gone after a reboot, by design. */
public record StatePaths(Path runtimeState, Path runs) {

    /** A cage's bundle: its config.json and the mount point of its root. */
    public Path bundle(String cageId) {
        return runs.resolve(cageId).resolve("bundle");
    }

    /** Held while a cage's addresses are chosen, so that two cages never get the same. */
    public Path networkLock() {
        return runs.resolveSibling("network.lock");
    }

    /** Where a cage's shifted (idmapped) mounts wait for the runtime to bind them. */
    public Path stagedMounts(String cageId) {
        return runs.resolveSibling("mounts").resolve(cageId);
    }

    /** A filtered cage's network files (its resolv.conf, the audit log of a one-shot run). */
    public Path networkState(String cageId) {
        return runs.resolveSibling("net").resolve(cageId);
    }

    public static StatePaths forRoot() {
        return new StatePaths(Path.of("/run/claude-cage/runtime"), Path.of("/run/claude-cage/runs"));
    }
}
