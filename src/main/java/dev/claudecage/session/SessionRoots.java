package dev.claudecage.session;

import dev.claudecage.host.StateLayout;

import java.nio.file.Path;

/**
 * The two roots of the session store: {@code data} on disk (records, persisted homes, logs) and
 * {@code run} in memory (pids, sockets, locks; gone after a reboot, by design).
 */
public record SessionRoots(Path data, Path run) {

    /** The roots for this process's user: see {@link StateLayout}. */
    public static SessionRoots current() {
        return of(StateLayout.current());
    }

    public static SessionRoots of(StateLayout layout) {
        return new SessionRoots(layout.data().resolve("sessions"), layout.run().resolve("sessions"));
    }

    public SessionPaths paths(SessionName name, boolean ephemeral) {
        return new SessionPaths(name, data.resolve(name.value()), run.resolve(name.value()), ephemeral);
    }

    /**
     * Where supervisors run their code from: a copy of the jar per version, named by its content, never
     * changed once written. A supervisor runs for days; a rebuilt or reinstalled jar must not change
     * the classes it has yet to load.
     */
    public Path supervisorJars() {
        return data.resolveSibling("supervisor");
    }

    /**
     * Where a --clone session's copy of the repository lives: owned by the repository's owner,
     * who runs git in it, so it cannot lie under the root-only state folder (git resolves every
     * folder above it). Its parent is 0711: reachable by name, not listable.
     */
    public Path cloneDir(SessionName name) {
        Path state = data.getParent();
        return state.resolveSibling(state.getFileName() + "-clones").resolve(name.value());
    }

    /** Held while sessions are counted and created, so that max_sessions holds under concurrency. */
    public Path storeLock() {
        return run.resolve(".store.lock");
    }
}
