package dev.claudecage.verify;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** What a probe found: the wall held, there is a hole, or the probe could not tell. */
public enum Outcome {
    BLOCKED, HOLE, ERROR;

    @JsonValue
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Outcome fromWord(String word) {
        return switch (word) {
            case "blocked" -> BLOCKED;
            case "hole" -> HOLE;
            default -> ERROR;
        };
    }
}
