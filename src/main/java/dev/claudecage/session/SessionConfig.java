package dev.claudecage.session;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.HostFacts;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A session's configuration is fixed when the session is created: every effective value is
 * recorded, and every start of the session loads exactly those values again (checked again, so a
 * mount whose folder has gone is an error, not a surprise). Later changes to the configuration
 * files apply to new sessions only.
 */
public final class SessionConfig {

    /** Nobody can create a file in /proc/self: the loader's file layers are always skipped. */
    private static final Path NO_FILE = Path.of("/proc/self/claude-cage-no-config");

    private SessionConfig() {
    }

    /** The configuration from recorded values, over the built-in defaults only. */
    public static CageConfig load(Map<String, Object> recorded) {
        Map<String, Object> flags = new LinkedHashMap<>();
        recorded.forEach((key, value) -> {
            if (value instanceof List<?> list) {
                flags.put(key, list.stream().map(String::valueOf).toList());
            } else if (value != null) {
                flags.put(key, String.valueOf(value));
            }
        });
        return new ConfigLoader(NO_FILE, NO_FILE, Map.of(), HostFacts.current(), Path.of("/")).load(flags).config();
    }
}
