package dev.claudecage.image.registry;

import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Saves a response body to a file while hashing it, and gives up on a body that stalls (sends
 * nothing for {@code stall}) or runs past {@code maxBytes}: for registry blobs and ADD's URLs.
 */
public final class Download {

    private Download() {
    }

    /** Thrown when the body holds more than the caller allowed; nothing more is read. */
    public static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge(long maxBytes) {
            super("more than " + maxBytes + " bytes");
        }
    }

    /** Writes {@code body} to {@code target}, feeding {@code digest}; returns the bytes received. */
    public static long save(InputStream body, Path target, long maxBytes, MessageDigest digest, Duration stall)
            throws IOException {
        AtomicLong received = new AtomicLong();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("download-watchdog"));
        long[] seen = {-1};
        watchdog.scheduleAtFixedRate(() -> {
            if (received.get() == seen[0]) {
                // Closing is how a stalled read is ended; the reader sees the failure.
                Teardown.closeQuietly(body);
            }
            seen[0] = received.get();
        }, stall.toMillis(), stall.toMillis(), TimeUnit.MILLISECONDS);
        try (InputStream in = body; OutputStream out = Files.newOutputStream(target)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                if (received.addAndGet(read) > maxBytes) {
                    throw new TooLarge(maxBytes);
                }
                digest.update(buffer, 0, read);
                out.write(buffer, 0, read);
            }
            return received.get();
        } catch (IOException e) {
            if (e instanceof TooLarge) {
                throw e;
            }
            throw new IOException(e.getMessage() + " after " + received.get() + " bytes", e);
        } finally {
            watchdog.shutdownNow();
        }
    }
}
