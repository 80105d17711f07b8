package dev.claudecage.config;

/** What runs in the cage. */
public enum Mode implements YamlWord {
    /** Claude Code in a terminal. */
    CLI,
    /** A desktop viewed in a browser. */
    DESKTOP
}
