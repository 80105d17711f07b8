package dev.claudecage.config;

import java.util.List;

/**
 * One layer's value for a key, before it is checked, and where it was written.
 *
 * @param text the text of a {@link Shape#TEXT} value, or what a {@link Shape#STRUCTURE} is
 * @param line the 1-based line in a file, or null for the environment and flags
 */
record RawValue(ConfigKey key, Shape shape, String text, List<String> items, String origin, Integer line) {

    enum Shape {
        /** A single value: a YAML scalar, an environment variable, a flag. */
        TEXT,
        /** A YAML list or a repeated flag. */
        LIST,
        /** A YAML key with no value. */
        EMPTY,
        /** YAML that no key accepts: a mapping, or a list that holds lists or mappings. */
        STRUCTURE
    }

    RawValue {
        items = items == null ? null : List.copyOf(items);
    }

    static RawValue text(ConfigKey key, String text, String origin, Integer line) {
        return new RawValue(key, Shape.TEXT, text, null, origin, line);
    }

    static RawValue list(ConfigKey key, List<String> items, String origin, Integer line) {
        return new RawValue(key, Shape.LIST, null, items, origin, line);
    }

    static RawValue empty(ConfigKey key, String origin, Integer line) {
        return new RawValue(key, Shape.EMPTY, null, null, origin, line);
    }

    static RawValue structure(ConfigKey key, String description, String origin, Integer line) {
        return new RawValue(key, Shape.STRUCTURE, description, null, origin, line);
    }

    /** Whether the key is there with no value, or a blank one: what a setting with a default reads as "use it". */
    boolean leftEmpty() {
        return shape == Shape.EMPTY || (shape == Shape.TEXT && text.isBlank());
    }

    /** For messages: "/etc/claude-cage/config.yaml, line 3" or "flag --memory". */
    String where() {
        return line == null ? origin : origin + ", line " + line;
    }
}
