package dev.claudecage.net;

import dev.claudecage.CageException;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-cage audit log: one JSON line per decision, appended and flushed at once so that a
 * crash loses nothing already decided. Thread-safe; the proxy, gateway and DNS stub share one.
 */
public final class AuditLog implements AutoCloseable {

    private final Path file;
    private final Writer writer;

    private AuditLog(Path file, Writer writer) {
        this.file = file;
        this.writer = writer;
    }

    /** Opens (creating 0600) the log for appending. */
    public static AuditLog open(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            return new AuditLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new CageException("cannot open the audit log " + file + ": " + e.getMessage());
        }
    }

    public Path file() {
        return file;
    }

    public synchronized void record(AuditEvent event) {
        try {
            writer.write(Json.writeLine(event));
            writer.write('\n');
            writer.flush();
        } catch (IOException e) {
            // Losing the audit trail is a failure the user must hear about, not a silent gap.
            throw new CageException("cannot write the audit log " + file + ": " + e.getMessage());
        }
    }

    /** Every event in a log file, oldest first. */
    public static List<AuditEvent> read(Path file) {
        try {
            List<AuditEvent> events = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    events.add(Json.read(line, AuditEvent.class));
                }
            }
            return events;
        } catch (IOException e) {
            throw new CageException("cannot read the audit log " + file + ": " + e.getMessage());
        }
    }

    @Override
    public synchronized void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new CageException("cannot close the audit log " + file + ": " + e.getMessage());
        }
    }
}
