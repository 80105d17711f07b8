package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.host.Directories;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The policy a session's current or last run was started under, as its supervisor put it in
 * place: the effective configuration, the allowlist, every mount with the workspace wall's
 * guards, the protected paths and the image. Kept in the session's data folder ({@code policy.json},
 * 0600), which no mount reaches (a mount that would is refused), so the cage cannot change it.
 * The hash is the SHA-256 of the policy's JSON (sorted keys): equal policies have equal hashes,
 * and {@code status} recomputes it to show that the file is as written.
 *
 * @param containerId the run it was recorded for
 * @param sha256      the hash of {@code policy}
 */
public record SessionPolicy(String containerId, String recordedAt, Policy policy, String sha256) {

    /**
     * @param imageId the stored image's id (sha256:...), or null for a --rootfs directory
     * @param mounts  what the cage sees mounted from the host, HOST:CAGE:ro|rw, the wall's guards marked
     */
    public record Policy(String image, String imageId, String rootfs, Map<String, Object> config,
                         List<String> allowedHosts, List<String> mounts, List<String> protectedPaths) {
        public Policy {
            config = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(config));
            allowedHosts = List.copyOf(allowedHosts);
            mounts = List.copyOf(mounts);
            protectedPaths = List.copyOf(protectedPaths);
        }
    }

    static SessionPolicy of(String containerId, String recordedAt, CageConfig config, String imageId,
                            List<String> mounts) {
        Policy policy = new Policy(config.rootfs() == null ? config.image() : null, imageId,
                config.rootfs() == null ? null : config.rootfs().toString(), SessionConfig.record(config),
                config.allowedHosts(), mounts, config.protectedPaths().stream().map(ProtectedPath::format).toList());
        return new SessionPolicy(containerId, recordedAt, policy, hash(policy));
    }

    /** Whether the recorded hash is the hash of the recorded policy. */
    public boolean intact() {
        return hash(policy).equals(sha256);
    }

    static String hash(Policy policy) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(Json.write(policy).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    void write(Path file) {
        try {
            Directories.writePrivateFile(file, Json.write(this));
        } catch (IOException e) {
            throw new CageException("cannot record the session's policy in " + file + ": " + e.getMessage());
        }
    }

    static Optional<SessionPolicy> read(Path file) {
        try {
            return Optional.of(Json.read(Files.readString(file), SessionPolicy.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            throw new CageException("cannot read the session's policy " + file + ": " + e.getMessage());
        }
    }
}
