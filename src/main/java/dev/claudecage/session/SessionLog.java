package dev.claudecage.session;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;

/**
 * The cage's terminal output, byte for byte, in {@code session.log}; when it passes its size
 * limit it becomes {@code session.log.1} (replacing the one before) and a new file begins, so a
 * session never holds more than twice the limit. Beside each file, an index of "epoch-millis
 * offset" lines, at most one a second, tells {@code logs --since} where to begin without
 * putting timestamps into the terminal stream.
 */
final class SessionLog implements AutoCloseable {

    static final long DEFAULT_LIMIT = 8L * 1024 * 1024;
    private static final long INDEX_INTERVAL_MILLIS = 1000;

    private final Path file;
    private final long limit;
    private final Clock clock;
    private OutputStream out;
    private OutputStream index;
    private long size;
    private long lastIndexed = -1;

    SessionLog(Path file, long limit, Clock clock) throws IOException {
        this.file = file;
        this.limit = limit;
        this.clock = clock;
        open();
    }

    static Path indexOf(Path log) {
        return log.resolveSibling(log.getFileName() + ".idx");
    }

    static Path rotated(Path log) {
        return log.resolveSibling(log.getFileName() + ".1");
    }

    private void open() throws IOException {
        out = append(file);
        index = append(indexOf(file));
        size = Files.size(file);
    }

    private static OutputStream append(Path path) throws IOException {
        if (!Files.exists(path)) {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        return Files.newOutputStream(path, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    }

    synchronized void write(byte[] data) throws IOException {
        if (size >= limit) {
            rotate();
        }
        long now = clock.millis();
        if (lastIndexed < 0 || now - lastIndexed >= INDEX_INTERVAL_MILLIS) {
            index.write((now + " " + size + "\n").getBytes(StandardCharsets.US_ASCII));
            index.flush();
            lastIndexed = now;
        }
        out.write(data);
        out.flush();
        size += data.length;
    }

    private void rotate() throws IOException {
        out.close();
        index.close();
        Files.move(file, rotated(file), StandardCopyOption.REPLACE_EXISTING);
        Files.move(indexOf(file), indexOf(rotated(file)), StandardCopyOption.REPLACE_EXISTING);
        lastIndexed = -1;
        open();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
        index.close();
    }
}
