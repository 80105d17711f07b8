package dev.claudecage.session;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/**
 * {@code logs}: the cage's terminal output as it was written (control sequences included; the
 * caller decides whether they pass through a {@link dev.claudecage.terminal.TerminalFilter}), or the
 * audit log; from a time on, and followed until the session ends.
 */
public record SessionLogs(Sessions sessions, Clock clock) {

    /** Prints the output log; returns false when there is none yet. */
    public boolean printOutput(SessionName name, OutputStream out, Duration since, boolean follow)
            throws IOException, InterruptedException {
        SessionRecord record = sessions.store().require(name);
        Path log = sessions.store().paths(record).outputLog();
        if (!Files.exists(log) && !Files.exists(SessionLog.rotated(log)) && !follow) {
            return false;
        }
        LogReader reader = new LogReader(log);
        LogReader.Position end = reader.print(out, since == null ? null : clock.millis() - since.toMillis());
        if (follow) {
            reader.follow(out, end, () -> isLive(name));
        }
        return true;
    }

    /** Prints the audit log (one JSON line per network decision); returns false when there is none yet. */
    public boolean printAudit(SessionName name, OutputStream out, Duration since, boolean follow)
            throws IOException, InterruptedException {
        SessionRecord record = sessions.store().require(name);
        Path audit = sessions.store().paths(record).auditLog();
        if (!Files.exists(audit) && !follow) {
            return false;
        }
        Instant from = since == null ? null : clock.instant().minus(since);
        long offset = 0;
        StringBuilder partial = new StringBuilder();
        BooleanSupplier live = () -> isLive(name);
        while (true) {
            boolean wasLive = live.getAsBoolean();
            long size = Files.exists(audit) ? Files.size(audit) : 0;
            if (size < offset) {
                offset = 0;
            }
            if (size > offset) {
                byte[] chunk = read(audit, offset, size);
                offset = size;
                partial.append(new String(chunk, StandardCharsets.UTF_8));
                int newline;
                while ((newline = partial.indexOf("\n")) >= 0) {
                    String line = partial.substring(0, newline);
                    partial.delete(0, newline + 1);
                    if (from == null || !before(line, from)) {
                        // Names the cage chose are in it: printed as escapes, never as control characters.
                        out.write((Json.printableLine(line) + "\n").getBytes(StandardCharsets.UTF_8));
                    }
                }
                out.flush();
                continue;
            }
            if (!follow || !wasLive) {
                return true;
            }
            Thread.sleep(200);
        }
    }

    private boolean isLive(SessionName name) {
        return sessions.store().read(name).map(record -> new Reconciler(sessions.probe()).isLive(record)).orElse(false);
    }

    /** Whether a JSON line's "time" (ISO-8601, as the audit log writes it) is before {@code from}; lines without one are kept. */
    static boolean before(String line, Instant from) {
        try {
            JsonNode node = Json.mapper().readTree(line);
            JsonNode time = node.path("time");
            if (time.isTextual()) {
                return Instant.parse(time.asText()).isBefore(from);
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    private static byte[] read(Path file, long from, long to) {
        try (var channel = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) Math.min(to - from, 16 * 1024 * 1024));
            while (buffer.hasRemaining() && channel.read(buffer, from + buffer.position()) > 0) {
                // Keep reading.
            }
            byte[] bytes = new byte[buffer.position()];
            buffer.flip();
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
