package dev.claudecage.host;

import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

/**
 * An exclusive lock on a lock file: a POSIX record lock, which the kernel drops when its holder
 * dies, so a crash never leaves a lock held. Waiting is bounded: a stuck holder gives an error
 * that names the lock, never a hang.
 */
public final class FileLock implements AutoCloseable {

    private static final long POLL_MILLIS = 15;

    private final Path file;
    private final FileChannel channel;
    private final java.nio.channels.FileLock lock;

    private FileLock(Path file, FileChannel channel, java.nio.channels.FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Locks {@code file}, creating it (0600) and its folder when needed. */
    public static FileLock acquire(Path file, Duration timeout, String what) {
        return await(() -> tryAcquire(file), timeout, what, file);
    }

    /** Retries {@code attempt} until it returns a lock or {@code timeout} has passed. */
    public static FileLock await(Supplier<FileLock> attempt, Duration timeout, String what, Path file) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            FileLock held = attempt.get();
            if (held != null) {
                return held;
            }
            if (System.nanoTime() > deadline) {
                throw new CageException("timed out after " + timeout.toSeconds() + "s waiting for the lock on " + what
                        + " (" + file + ")", "another claude-cage command holds it; try again when it has finished");
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CageException("interrupted while waiting for the lock on " + what);
            }
        }
    }

    /**
     * Locks {@code file} however long its holder keeps it (another build may take many minutes);
     * {@code onWait} hears once, when it has to wait.
     */
    public static FileLock acquireWaiting(Path file, Runnable onWait) {
        FileLock free = tryAcquire(file);
        if (free != null) {
            return free;
        }
        onWait.run();
        try {
            FileChannel channel = open(file);
            try {
                return new FileLock(file, channel, channel.lock());
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException e) {
            throw new CageException("cannot lock " + file + ": " + e.getMessage());
        }
    }

    /** The lock when it is free right now, else null. */
    public static FileLock tryAcquire(Path file) {
        try {
            FileChannel channel = open(file);
            java.nio.channels.FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                // Another thread of this process holds it.
                lock = null;
            }
            if (lock == null) {
                channel.close();
                return null;
            }
            return new FileLock(file, channel, lock);
        } catch (IOException e) {
            throw new CageException("cannot lock " + file + ": " + e.getMessage());
        }
    }

    private static FileChannel open(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // Closing the channel drops the lock in any case.
        }
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing left to release.
        }
    }
}
