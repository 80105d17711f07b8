package dev.claudecage.session;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/** Reads a {@link SessionLog}: the rotated file, then the current one, from a time on, and follows it. */
final class LogReader {

    private static final long FOLLOW_POLL_MILLIS = 150;

    private final Path log;

    LogReader(Path log) {
        this.log = log;
    }

    /**
     * Copies what was written at or after {@code sinceMillis} (everything when null) to {@code out}.
     *
     * @return where the current file was read to, to follow from
     */
    Position print(OutputStream out, Long sinceMillis) throws IOException {
        Path old = SessionLog.rotated(log);
        if (Files.exists(old)) {
            long start = startOffset(old, sinceMillis);
            if (start >= 0) {
                copy(old, start, out);
            }
        }
        long start = startOffset(log, sinceMillis);
        if (start < 0) {
            return new Position(fileKey(log), size(log));
        }
        Object key = fileKey(log);
        long end = copy(log, start, out);
        return new Position(key, end);
    }

    /** Copies new output as it is written, across rotations, until {@code live} says the writer is gone and all is read. */
    void follow(OutputStream out, Position from, BooleanSupplier live) throws IOException, InterruptedException {
        Object key = from.fileKey();
        long offset = from.offset();
        while (true) {
            boolean wasLive = live.getAsBoolean();
            Object currentKey = fileKey(log);
            if (key != null && !Objects.equals(key, currentKey)) {
                // Rotated: finish the old file (now session.log.1), then start the new one from its beginning.
                Path old = SessionLog.rotated(log);
                if (Objects.equals(key, fileKey(old))) {
                    copy(old, offset, out);
                }
                key = currentKey;
                offset = 0;
            } else if (key == null) {
                key = currentKey;
            }
            if (currentKey != null) {
                long end = copy(log, offset, out);
                boolean grew = end != offset;
                offset = end;
                if (grew) {
                    continue;
                }
            }
            if (!wasLive) {
                return;
            }
            Thread.sleep(FOLLOW_POLL_MILLIS);
        }
    }

    record Position(Object fileKey, long offset) {
    }

    /** The offset to start at for {@code sinceMillis}, 0 for everything, -1 when the file is all older. */
    static long startOffset(Path file, Long sinceMillis) throws IOException {
        if (sinceMillis == null) {
            return 0;
        }
        Path index = SessionLog.indexOf(file);
        if (!Files.exists(index)) {
            return 0;
        }
        return startOffset(Files.readAllLines(index), sinceMillis);
    }

    static long startOffset(List<String> indexLines, long sinceMillis) {
        for (String line : indexLines) {
            String[] parts = line.strip().split(" ");
            if (parts.length != 2) {
                continue;
            }
            if (Long.parseLong(parts[0]) >= sinceMillis) {
                return Long.parseLong(parts[1]);
            }
        }
        return -1;
    }

    private static long copy(Path file, long from, OutputStream out) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long position = from;
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            while (true) {
                buffer.clear();
                int read = channel.read(buffer, position);
                if (read <= 0) {
                    break;
                }
                out.write(buffer.array(), 0, read);
                position += read;
            }
            out.flush();
            return position;
        } catch (NoSuchFileException e) {
            return from;
        }
    }

    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }
}
