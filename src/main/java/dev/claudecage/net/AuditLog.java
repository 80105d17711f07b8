package dev.claudecage.net;

import dev.claudecage.CageException;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The per-cage audit log: one JSON line per decision, appended and flushed at once so that a
 * crash loses nothing already decided. Thread-safe; the proxy, gateway and DNS stub share one.
 * Each line is printable ASCII ({@link Json#writeLine}): a name or CONNECT target the cage chose
 * reaches whoever reads the log as escapes, never as control characters for a terminal.
 * <p>
 * The file may lie in a folder the cage writes ({@code --mount $PWD:/workspace --audit-log
 * audit.jsonl}), where the cage can replace it between two runs by a link to any host file,
 * which a root launcher would then append to. So it is opened through {@link UntrustedDirectory},
 * beneath the writable folder: no link on the way or as its name is followed, and only a
 * regular file with a single name is appended to; anything else stops the start, with the reason.
 */
public final class AuditLog implements AutoCloseable {

    private final Path file;
    private final OutputStream out;
    private long denied;

    private AuditLog(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /**
     * Opens (creating 0600, and its missing folders) the log for appending.
     *
     * @param cageWritable the folders the cage writes (its writable mounts)
     */
    public static AuditLog open(Path file, Collection<Path> cageWritable) {
        try {
            UntrustedDirectory.Placement placement = UntrustedDirectory.place(file, cageWritable);
            try (UntrustedDirectory folder = UntrustedDirectory.open(placement.folder())) {
                int slash = placement.relative().lastIndexOf('/');
                if (slash > 0) {
                    folder.createDirectories(placement.relative().substring(0, slash), 0755);
                }
                AuditLog log = new AuditLog(file, folder.openAppend(placement.relative(), 0600));
                if (placement.cageWritable()) {
                    System.err.println("claude-cage: note: the audit log " + file + " is in " + placement.folder()
                            + ", which the cage writes: the cage can change or remove it; for a record it cannot "
                            + "touch, keep it outside the cage's mounts");
                }
                return log;
            }
        } catch (IOException e) {
            String where = e instanceof FileSystemException problem && problem.getReason() != null
                    && file.toAbsolutePath().normalize().toString().equals(problem.getFile())
                    ? problem.getReason() : e.getMessage();
            throw new CageException("cannot open the audit log " + file + ": " + where,
                    "if the cage can write its folder, it may have put what is in the way there: look at it "
                            + "(ls -l " + file + ") before you remove it, or name a file outside the cage's mounts");
        }
    }

    public Path file() {
        return file;
    }

    public synchronized void record(AuditEvent event) {
        try {
            out.write((Json.writeLine(event) + "\n").getBytes(StandardCharsets.UTF_8));
            if (!AuditEvent.ALLOWED.equals(event.decision())) {
                denied++;
            }
        } catch (IOException e) {
            // Losing the audit trail is a failure the user must hear about, not a silent gap.
            throw new CageException("cannot write the audit log " + file + ": " + e.getMessage());
        }
    }

    /**
     * How many events this log recorded that were not allowed; counted as they were written,
     * so that nobody reads back a file the cage may have changed since.
     */
    public synchronized long denied() {
        return denied;
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
            out.close();
        } catch (IOException e) {
            throw new CageException("cannot close the audit log " + file + ": " + e.getMessage());
        }
    }
}
