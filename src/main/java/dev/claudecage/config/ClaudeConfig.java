package dev.claudecage.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Whether the cage's Claude Code gets the invoking user's own setup from ~/.claude, read-only. */
public enum ClaudeConfig {
    /** settings.json, CLAUDE.md, agents/, commands/ and skills/ of the user's ~/.claude, read-only. */
    INHERIT,
    /** Nothing of the user's: the cage's home has only what the cage itself keeps there. */
    NONE;

    /** The word used for this setting in config files, environment variables and flags. */
    public String yamlWord() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<ClaudeConfig> fromYamlWord(String word) {
        return Arrays.stream(values()).filter(value -> value.yamlWord().equals(word)).findFirst();
    }
}
