package dev.claudecage.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A configuration and, for each YAML key, where its value came from: "built-in default", a file
 * path, "FILE (project FOLDER)", "environment CLAUDE_CAGE_MEMORY" or "flag --memory".
 *
 * @param allowedHostPresets each allowed_hosts entry that a preset brought, with the preset (preset:npm)
 * @param project            the project folder whose section of the user's file applies, if one does
 */
public record EffectiveConfig(CageConfig config, Map<String, String> origins, Map<String, String> allowedHostPresets,
        Optional<Path> project) {

    public EffectiveConfig {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(project, "project");
        origins = Collections.unmodifiableMap(new LinkedHashMap<>(origins));
        allowedHostPresets = Collections.unmodifiableMap(new LinkedHashMap<>(allowedHostPresets));
    }

    /** Where the value of a key came from. */
    public String origin(ConfigKey key) {
        return origins.get(key.yamlName());
    }
}
