package dev.claudecage.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A configuration and, for each YAML key, where its value came from: "built-in default", a file
 * path, "environment CLAUDE_CAGE_MEMORY" or "flag --memory".
 */
public record EffectiveConfig(CageConfig config, Map<String, String> origins) {

    public EffectiveConfig {
        Objects.requireNonNull(config, "config");
        origins = Collections.unmodifiableMap(new LinkedHashMap<>(origins));
    }

    /** Where the value of a key came from. */
    public String origin(ConfigKey key) {
        return origins.get(key.yamlName());
    }
}
