package dev.claudecage.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What runs in the cage. */
public enum Mode {
    /** Claude Code in a terminal. */
    CLI,
    /** A desktop viewed in a browser. */
    DESKTOP;

    /** The word used for this mode in config files, environment variables and flags. */
    public String yamlWord() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Mode> fromYamlWord(String word) {
        return Arrays.stream(values()).filter(mode -> mode.yamlWord().equals(word)).findFirst();
    }
}
