package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.Host;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The sessions on this host: their records, folders and locks.
 * <p>
 * Locking: one store lock, held briefly while sessions are counted and created or removed, and one
 * lock per session, held by a command while it changes that session (start, stop, destroy, gc).
 * A session lock is only ever taken while holding the store lock, and a session's lock file is only
 * removed while holding both, so no one can be left holding a lock on a removed file.
 * Order: store, then session; never the other way.
 * <p>
 * Writing: while a supervisor is alive, it alone writes its session's record; a command writes a
 * record only while holding the session lock and after making sure no supervisor is alive.
 */
public final class SessionStore {

    static final Duration LOCK_TIMEOUT = Duration.ofSeconds(60);

    private final SessionRoots roots;

    public SessionStore(SessionRoots roots) {
        this.roots = roots;
    }

    public SessionRoots roots() {
        return roots;
    }

    public SessionPaths paths(SessionName name, boolean ephemeral) {
        return roots.paths(name, ephemeral);
    }

    public SessionPaths paths(SessionRecord record) {
        return roots.paths(record.sessionName(), record.ephemeral());
    }

    /** Creates both roots, 0700. */
    public void ensureRoots() {
        try {
            Directories.createPrivate(roots.data());
            Directories.createPrivate(roots.run());
        } catch (IOException e) {
            throw new CageException("cannot create the session folders " + roots.data() + " and " + roots.run()
                    + ": " + e.getMessage());
        }
    }

    public FileLock lockStore() {
        ensureRoots();
        return FileLock.acquire(roots.storeLock(), LOCK_TIMEOUT, "the session store");
    }

    /** Locks one session; takes the store lock for a moment to do so. */
    public FileLock lockSession(SessionName name) {
        Path file = lockFile(name);
        return FileLock.await(() -> {
            FileLock store = lockStore();
            try {
                return FileLock.tryAcquire(file);
            } finally {
                store.close();
            }
        }, LOCK_TIMEOUT, "session " + name, file);
    }

    /** Locks one session while the caller holds the store lock. */
    public FileLock lockSession(SessionName name, FileLock heldStoreLock) {
        if (!heldStoreLock.file().equals(roots.storeLock())) {
            throw new IllegalArgumentException("not the store lock: " + heldStoreLock.file());
        }
        Path file = lockFile(name);
        return FileLock.await(() -> FileLock.tryAcquire(file), LOCK_TIMEOUT, "session " + name, file);
    }

    private Path lockFile(SessionName name) {
        return roots.paths(name, false).lockFile();
    }

    /** Names of every session that has a record, sorted. */
    public List<SessionName> names() {
        return listNames(roots.data()).stream()
                .filter(name -> Files.isRegularFile(roots.paths(name, false).stateFile()))
                .toList();
    }

    /**
     * Names that have a folder in memory, or a --clone copy, but no record on disk: what destroy
     * or a crash left. Sessions are created under the store lock, so a new one is never among them.
     */
    public List<SessionName> strayRunFolders() {
        List<SessionName> stray = new ArrayList<>();
        TreeSet<SessionName> candidates = new TreeSet<>(java.util.Comparator.comparing(SessionName::value));
        candidates.addAll(listNames(roots.run()));
        candidates.addAll(listNames(roots.cloneDir(SessionName.of("x")).getParent()));
        for (SessionName name : candidates) {
            if (!Files.isRegularFile(roots.paths(name, false).stateFile())) {
                stray.add(name);
            }
        }
        return stray;
    }

    private static List<SessionName> listNames(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(dir)) {
            TreeSet<String> names = new TreeSet<>();
            children.filter(child -> Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS))
                    .map(child -> child.getFileName().toString())
                    .filter(SessionName::isValid)
                    .forEach(names::add);
            return names.stream().map(SessionName::of).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    public boolean exists(SessionName name) {
        return Files.isRegularFile(roots.paths(name, false).stateFile());
    }

    public Optional<SessionRecord> read(SessionName name) {
        Path file = roots.paths(name, false).stateFile();
        String json;
        try {
            json = Files.readString(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new CageException("cannot read " + file + ": " + e.getMessage());
        }
        try {
            return Optional.of(SessionRecordReader.read(json));
        } catch (IOException e) {
            throw new CageException("the record of session " + name + " (" + file + ") is unreadable: "
                    + "invalid JSON for SessionRecord: " + e.getMessage(), "remove the session with: claude-cage destroy " + name);
        }
    }

    public SessionRecord require(SessionName name) {
        return read(name).orElseThrow(() -> new SessionNotFoundException(name, names()));
    }

    /** Replaces the record atomically (0600). */
    public void write(SessionRecord record) {
        Path file = roots.paths(record.sessionName(), false).stateFile();
        try {
            // The mapper's bytes without the mapper: a start writes the record before it starts the
            // supervisor, and the mapper's start (about 50 ms) would delay the supervisor as much.
            Directories.writePrivateFile(file, Json.writePlainRecord(record));
        } catch (IOException e) {
            throw new CageException("cannot write " + file + ": " + e.getMessage());
        }
    }

    /**
     * Creates a session's folders, each 0700: the record's folder, its logs, and (when the home
     * persists) the home, owned by the cage's user so that the cage can write it.
     */
    public void createFolders(SessionPaths paths, boolean persistHome, int uid, int gid) {
        try {
            Directories.createPrivate(paths.dataDir());
            Directories.createPrivate(paths.runDir());
            Directories.createPrivate(paths.logsDir());
            if (persistHome && !Files.isDirectory(paths.homeDir(), LinkOption.NOFOLLOW_LINKS)) {
                Directories.createPrivate(paths.homeDir());
                // Rootless, the cage's user is the invoking user on the host: the folder is its own already.
                if (Host.effectiveUid() == 0) {
                    Files.setAttribute(paths.homeDir(), "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
                    Files.setAttribute(paths.homeDir(), "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
                }
            }
        } catch (IOException e) {
            throw new CageException("cannot create the folders of session " + paths.name() + " under "
                    + paths.dataDir() + ": " + e.getMessage());
        }
    }

    /** Removes the session's folder in memory (pid, socket, key, logs of an ephemeral session); keeps its lock file. */
    public void removeRunState(SessionPaths paths) {
        try {
            for (Path file : List.of(paths.pidFile(), paths.socket(), paths.keyFile(), paths.planFile())) {
                Files.deleteIfExists(file);
            }
            Directories.deleteRecursively(paths.networkStateDir());
            if (paths.ephemeral()) {
                Directories.deleteRecursively(paths.logsDir());
            }
        } catch (IOException e) {
            throw new CageException("cannot clean " + paths.runDir() + ": " + e.getMessage());
        }
    }

    /**
     * Removes everything of a session: record, persisted home, logs, folder in memory and lock file.
     * The caller holds the store lock and the session's lock. Mounts are never followed: a folder
     * that is still a mount point stops the removal with an error instead.
     */
    public void delete(SessionName name, FileLock heldStoreLock) {
        if (!heldStoreLock.file().equals(roots.storeLock())) {
            throw new IllegalArgumentException("not the store lock: " + heldStoreLock.file());
        }
        SessionPaths paths = roots.paths(name, false);
        try {
            // The record first: a session without one is gone, even if removing the rest fails halfway.
            Files.deleteIfExists(paths.stateFile());
            Directories.deleteRecursively(paths.dataDir());
            Directories.deleteRecursively(paths.runDir());
            Directories.deleteRecursively(roots.cloneDir(name));
        } catch (IOException e) {
            throw new CageException("cannot remove session " + name + ": " + e.getMessage(),
                    "claude-cage gc retries once the cause is fixed");
        }
    }
}
