package dev.claudecage.verify;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/**
 * What a probe found: the wall held, there is a hole, or the probe could not tell; or the probe
 * was not run, because running it would need what the target cannot give (a live session).
 */
public enum Outcome {
    BLOCKED, HOLE, ERROR, NOT_RUN;

    @JsonValue
    public String word() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static Outcome fromWord(String word) {
        return switch (word) {
            case "blocked" -> BLOCKED;
            case "hole" -> HOLE;
            default -> ERROR;
        };
    }
}
