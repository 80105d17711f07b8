package dev.claudecage.session;

import dev.claudecage.host.FileLock;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionStoreTest {

    @TempDir
    Path dir;

    private SessionStore store() {
        return new SessionStore(new SessionRoots(dir.resolve("data"), dir.resolve("run")));
    }

    static SessionRecord record(String name) {
        return SessionRecord.create(SessionName.of(name), Map.of("network", "none", "mounts", List.of("/a:/b:rw")),
                List.of("bash"), false, true, Instant.parse("2025-01-01T00:00:00Z"));
    }

    /**
     * The record is written without Jackson's mapper (a start's supervisor waits for it): the same bytes as the
     * mapper's, at every stage of a session's life, for a real configuration's recorded values and for a record
     * as the supervisor rewrites it, read back with its values in the reader's types.
     */
    @Test
    void aRecordIsWrittenAsTheMapperWritesIt() throws Exception {
        SessionStore store = store();
        Map<String, Object> config = SessionConfig.load(Map.of("rootfs", dir.toString(), "network", "none", "cpus", "1.5",
                "memory", "2g", "mounts", List.of(dir + ":/workspace:ro"), "env", List.of("A=b"))).recordedValues();
        Instant now = Instant.parse("2026-12-07T23:00:00Z");
        SessionRecord created = SessionRecord.create(SessionName.of("plain"), config, List.of("sh", "-c", "echo \"\u00e9\u0001\""),
                false, true, now);
        SessionRecord starting = created.starting("cage-abc", new ProcessIdentity(42, 4200), "boot-1", now, 40, 120);
        SessionRecord running = starting.supervisedBy(new ProcessIdentity(43, 4300)).withStatus(SessionStatus.RUNNING);
        SessionRecord exited = running.ended(SessionStatus.EXITED, 3, "it said \"no\"", now);
        store.createFolders(store.paths(created), false, 1000, 1000);
        for (SessionRecord record : List.of(created, starting, running, exited)) {
            store.write(record);
            String written = Files.readString(store.paths(record).stateFile());
            assertEquals(Json.write(record), written);
            SessionRecord reread = store.require(record.sessionName());
            store.write(reread);
            assertEquals(Json.write(reread), Files.readString(store.paths(record).stateFile()));
        }
    }

    @Test
    void recordsRoundTripAndArePrivate() throws Exception {
        SessionStore store = store();
        store.ensureRoots();
        SessionRecord record = record("alpha");
        store.createFolders(store.paths(record), false, 1000, 1000);
        store.write(record);
        assertEquals(record, store.require(SessionName.of("alpha")));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                store.paths(record).stateFile())));
        for (Path folder : List.of(dir.resolve("data"), dir.resolve("run"), store.paths(record).dataDir(),
                store.paths(record).logsDir())) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder)), folder.toString());
        }
        assertEquals(List.of(SessionName.of("alpha")), store.names());
    }

    @Test
    void theHomeBelongsToTheCageUser() throws Exception {
        SessionStore store = store();
        store.ensureRoots();
        SessionPaths paths = store.paths(SessionName.of("beta"), false);
        store.createFolders(paths, true, 1000, 1001);
        assertEquals(1000, Files.getAttribute(paths.homeDir(), "unix:uid"));
        assertEquals(1001, Files.getAttribute(paths.homeDir(), "unix:gid"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(paths.homeDir())));
    }

    @Test
    void strayFoldersAndBadNamesAreNotSessions() throws Exception {
        SessionStore store = store();
        store.ensureRoots();
        Files.createDirectories(dir.resolve("data/Not-Valid"));
        Files.createDirectories(dir.resolve("data/no-record"));
        Files.createDirectories(dir.resolve("run/gone"));
        assertEquals(List.of(), store.names());
        assertEquals(List.of(SessionName.of("gone")), store.strayRunFolders());
        Path copy = store.roots().cloneDir(SessionName.of("copy-left"));
        try {
            Files.createDirectories(copy);
            assertEquals(List.of(SessionName.of("copy-left"), SessionName.of("gone")), store.strayRunFolders(),
                    "a --clone copy without its session is a leftover too");
        } finally {
            dev.claudecage.host.Directories.deleteRecursively(copy.getParent());
        }
        assertTrue(store.read(SessionName.of("no-record")).isEmpty());
        assertThrows(SessionNotFoundException.class, () -> store.require(SessionName.of("no-record")));
    }

    @Test
    void anUnreadableRecordSaysHowToGetRidOfIt() throws Exception {
        SessionStore store = store();
        store.ensureRoots();
        Files.createDirectories(dir.resolve("data/broken"));
        Files.writeString(dir.resolve("data/broken/state.json"), "{ not json");
        var error = assertThrows(dev.claudecage.CageException.class, () -> store.read(SessionName.of("broken")));
        assertTrue(error.hint().contains("claude-cage destroy broken"), error.hint());
    }

    @Test
    void concurrentWritersNeverLeaveAHalfWrittenRecord() throws Exception {
        SessionStore store = store();
        store.ensureRoots();
        SessionRecord base = record("gamma");
        store.createFolders(store.paths(base), false, 1000, 1000);
        store.write(base);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int writer = t;
            writers.add(pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    store.write(base.withStatus(i % 2 == 0 ? SessionStatus.RUNNING : SessionStatus.STOPPED)
                            .ended(SessionStatus.EXITED, writer * 1000 + i, "x".repeat(i), Instant.now()));
                }
            }));
        }
        Future<Integer> reader = pool.submit(() -> {
            int reads = 0;
            while (!stop.get()) {
                assertNotNull(Json.read(Files.readString(store.paths(base).stateFile()), SessionRecord.class));
                reads++;
            }
            return reads;
        });
        for (Future<?> writer : writers) {
            writer.get(60, TimeUnit.SECONDS);
        }
        stop.set(true);
        assertTrue(reader.get(60, TimeUnit.SECONDS) > 0);
        pool.shutdown();
        try (Stream<Path> files = Files.list(store.paths(base).dataDir())) {
            assertEquals(List.of("logs", "state.json"), files.map(file -> file.getFileName().toString()).sorted().toList(),
                    "temporary files were left behind");
        }
    }

    @Test
    void theSessionLockExcludesAndIsReleased() {
        SessionStore store = store();
        SessionName name = SessionName.of("delta");
        try (FileLock held = store.lockSession(name)) {
            assertNull(FileLock.tryAcquire(held.file()), "a second holder got the lock");
        }
        FileLock again = FileLock.tryAcquire(store.paths(name, false).lockFile());
        assertNotNull(again);
        again.close();
    }

    @Test
    void deleteRemovesEverythingOfTheSessionAndNothingElse() throws Exception {
        SessionStore store = store();
        store.ensureRoots();
        SessionRecord one = record("one");
        SessionRecord two = record("two");
        for (SessionRecord record : List.of(one, two)) {
            store.createFolders(store.paths(record), true, 1000, 1000);
            store.write(record);
        }
        Files.writeString(store.paths(one).homeDir().resolve("file"), "x");
        Path outside = Files.createDirectories(dir.resolve("workspace"));
        Files.writeString(outside.resolve("keep"), "keep");
        Files.createSymbolicLink(store.paths(one).homeDir().resolve("link-to-workspace"), outside);
        try (FileLock storeLock = store.lockStore(); FileLock sessionLock = store.lockSession(SessionName.of("one"), storeLock)) {
            assertNotNull(sessionLock);
            store.delete(SessionName.of("one"), storeLock);
        }
        assertFalse(Files.exists(store.paths(one).dataDir()));
        assertFalse(Files.exists(store.paths(one).runDir()));
        assertEquals("keep", Files.readString(outside.resolve("keep")), "deleting followed a link");
        assertEquals(List.of(SessionName.of("two")), store.names());
    }
}
