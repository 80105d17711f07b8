package dev.claudecage.session;

/**
 * A session as it really is: its record, the status observed on the host (which may differ from
 * the recorded one after a crash), and why, when they differ.
 *
 * @param container the runtime's view of the session's container, or null when the runtime has none
 * @param orphaned  whether something of the cage still runs with no supervisor to take it down
 */
public record SessionView(SessionRecord record, SessionStatus status, String problem, RuntimeContainer container,
                          boolean orphaned) {

    /** The state as users read it: running, stopped, exited(N), crashed. */
    public String stateWord() {
        if (status == SessionStatus.EXITED && record.exitCode() != null) {
            return "exited(" + record.exitCode() + ")";
        }
        return status.word();
    }

    /** Whether the record says something else than the host: the record needs correcting. */
    public boolean stale() {
        return status != record.status();
    }

    public boolean live() {
        return status.supervised();
    }
}
