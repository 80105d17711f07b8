package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.json.Json;
import dev.claudecage.net.AuditEvent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The results of {@code verify --session} during a session's run, handed to its supervisor, which alone
 * writes the session's evidence trail (a second writer would fork its chain). Kept in the session's run
 * folder, which no mount reaches; the supervisor reads them into the trail when the run ends.
 */
public final class SessionVerifications {

    /** The source of a verify result's line in the trail. */
    public static final String SOURCE = "verify";

    /** The most results a run's trail takes: each is one line, written by root's verify, not by the cage. */
    static final int MOST = 100;

    private SessionVerifications() {
    }

    /** Adds one result for the session's current run. */
    public static void add(SessionPaths paths, AuditEvent result) {
        Path file = paths.verifications();
        try {
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, Json.writeLine(result) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new CageException("cannot hand the result to session " + paths.name() + "'s evidence trail (" + file
                    + "): " + e.getMessage(), "the report above still holds; the trail will not have it");
        }
    }

    /** The results of this run, oldest first, at most {@value #MOST}; a line that is not one is passed over. */
    static List<AuditEvent> read(SessionPaths paths) {
        List<AuditEvent> results = new ArrayList<>();
        try (var lines = Files.lines(paths.verifications(), StandardCharsets.UTF_8)) {
            for (String line : (Iterable<String>) lines.limit(MOST)::iterator) {
                try {
                    results.add(Json.read(line, AuditEvent.class));
                } catch (RuntimeException notAResult) {
                    // Only root's verify writes here; a torn line from a verify killed mid-write is not a result.
                }
            }
        } catch (NoSuchFileException none) {
            return List.of();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of(AuditEvent.about(Instant.now(), SOURCE, "unreadable", "the results of verify "
                    + "--session could not be read: " + e.getMessage()));
        }
        return results;
    }
}
