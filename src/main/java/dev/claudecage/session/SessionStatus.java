package dev.claudecage.session;

import java.util.Locale;

/** Where a session is in its life, as recorded and as observed. */
public enum SessionStatus {
    /** Created; its supervisor is starting the cage. */
    STARTING,
    /** The cage runs under its supervisor. */
    RUNNING,
    /** A stop was asked for; the supervisor is taking the cage down. */
    STOPPING,
    /** Stopped on request (or by a host restart); can be started again. */
    STOPPED,
    /** The cage's command ended by itself, with an exit code; can be started again. */
    EXITED,
    /** The cage could not be started; nothing of it runs. */
    FAILED,
    /** The supervisor died without taking the cage down: leftovers may remain until destroy or gc. */
    CRASHED;

    /** Whether a supervisor owns the session in this state. */
    public boolean supervised() {
        return this == STARTING || this == RUNNING || this == STOPPING;
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
