package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.json.Json;
import dev.claudecage.runtime.CagePolicy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The policy a session's current or last run was started under ({@link CagePolicy}), as its supervisor put it
 * in place. Kept in the session's data folder ({@code policy.json}, 0600), which no mount reaches (a mount that
 * would is refused), so the cage cannot change it; {@code status} recomputes the hash to show that the file is
 * as written.
 *
 * @param containerId the run it was recorded for
 * @param sha256      the hash of {@code policy}
 */
public record SessionPolicy(String containerId, String recordedAt, CagePolicy policy, String sha256) {

    static SessionPolicy of(String containerId, String recordedAt, CagePolicy policy) {
        return new SessionPolicy(containerId, recordedAt, policy, policy.sha256());
    }

    /** Whether the recorded hash is the hash of the recorded policy. */
    public boolean intact() {
        return policy.sha256().equals(sha256);
    }

    void write(Path file) {
        try {
            Directories.writePrivateFile(file, Json.writePlainRecord(this));
        } catch (IOException e) {
            throw new CageException("cannot record the session's policy in " + file + ": " + e.getMessage());
        }
    }

    static Optional<SessionPolicy> read(Path file) {
        try {
            return Optional.of(SessionPolicyReader.read(Files.readString(file)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            throw new CageException("cannot read the session's policy " + file + ": " + e.getMessage());
        }
    }
}
