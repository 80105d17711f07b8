package dev.claudecage.config;

/** Whether the cage's Claude Code gets the invoking user's own setup from ~/.claude, read-only. */
public enum ClaudeConfig implements YamlWord {
    /** settings.json, CLAUDE.md, agents/, commands/ and skills/ of the user's ~/.claude, read-only. */
    INHERIT,
    /** Nothing of the user's: the cage's home has only what the cage itself keeps there. */
    NONE
}
