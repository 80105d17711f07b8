package dev.claudecage.runtime;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.image.store.Digest;
import dev.claudecage.json.Json;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The policy a cage is started under: the effective configuration, the allowlist, every mount with the
 * workspace wall's guards, the protected paths and the image. Its hash is the SHA-256 of its JSON (sorted
 * keys): equal policies have equal hashes. Every cage's trail starts with it; a session also keeps the record
 * itself ({@code policy.json}), which {@code status} hashes again to show that it is as written.
 *
 * @param imageId the stored image's id (sha256:...), or null for a --rootfs directory
 * @param mounts  what the cage sees mounted from the host, HOST:CAGE:ro|rw, the wall's guards marked
 */
public record CagePolicy(String image, String imageId, String rootfs, Map<String, Object> config,
                         List<String> allowedHosts, List<String> mounts, List<String> protectedPaths) {

    public CagePolicy {
        config = Collections.unmodifiableMap(new TreeMap<>(config));
        allowedHosts = List.copyOf(allowedHosts);
        mounts = List.copyOf(mounts);
        protectedPaths = List.copyOf(protectedPaths);
    }

    public static CagePolicy of(CageConfig config, String imageId, List<String> mounts) {
        return new CagePolicy(config.rootfs() == null ? config.image() : null, imageId,
                config.rootfs() == null ? null : config.rootfs().toString(), config.recordedValues(),
                config.allowedHosts(), mounts, config.protectedPaths().stream().map(ProtectedPath::format).toList());
    }

    /**
     * The SHA-256 of this record's JSON ({@link Json#write}'s text), in hex. The text is made without the
     * object mapper ({@link Json#writeTree}): {@code status} hashes the recorded policy again on each call.
     */
    public String sha256() {
        Map<String, Object> fields = new HashMap<>();
        fields.put("image", image);
        fields.put("imageId", imageId);
        fields.put("rootfs", rootfs);
        fields.put("config", config);
        fields.put("allowedHosts", allowedHosts);
        fields.put("mounts", mounts);
        fields.put("protectedPaths", protectedPaths);
        return HexFormat.of().formatHex(Digest.sha256().digest(Json.writeTree(fields).getBytes(StandardCharsets.UTF_8)));
    }
}
