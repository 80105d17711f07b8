package dev.claudecage.session;

import dev.claudecage.net.gateway.PlaceholderKey;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A session's {@code state.json}: what it was created with, which container runs it now, and how
 * its last run ended. Written atomically (temporary file and rename), 0600. While a supervisor is
 * alive it alone writes the record; commands write it only when no supervisor is (see {@link SessionStore}).
 *
 * @param config      the effective configuration at creation, YAML key to value, used again on every start
 * @param command     the command the cage runs
 * @param containerId the container of the current or last run, or null before the first
 * @param supervisor  the supervisor of the current or last run, or null
 * @param launcher    the command that started the current run; stands in for the supervisor until it is up
 * @param bootId      the kernel's boot id when the run started: a different one means the host restarted
 * @param exitCode    how the last run ended, or null
 * @param problem     why the last run failed or crashed, in words, or null
 * @param placeholderKey the API key the cage holds in place of the user's, the same for every run
 *                    of the session, so that Claude Code's approval of it in a persisted home holds;
 *                    no secret (the cage has it); null only in a record of an older claude-cage
 *                    until its next start
 */
public record SessionRecord(int version, String name, Map<String, Object> config, List<String> command,
                            boolean ephemeral, boolean persist, SessionStatus status, String containerId,
                            ProcessIdentity supervisor, ProcessIdentity launcher, String bootId,
                            String createdAt, String startedAt, String endedAt, Integer exitCode, String problem,
                            int rows, int columns, String placeholderKey) {

    public static final int CURRENT_VERSION = 1;

    public SessionRecord {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(status, "status");
        config = config == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(config));
        command = List.copyOf(command);
    }

    public static SessionRecord create(SessionName name, Map<String, Object> config, List<String> command,
                                       boolean ephemeral, boolean persist, Instant now) {
        return new SessionRecord(CURRENT_VERSION, name.value(), config, command, ephemeral, persist,
                SessionStatus.STOPPED, null, null, null, null, now.toString(), null, null, null, null, 0, 0,
                PlaceholderKey.generate().value());
    }

    /** A new run begins: a fresh container, started by {@code launcher}, its supervisor not up yet. */
    public SessionRecord starting(String newContainerId, ProcessIdentity newLauncher, String newBootId, Instant now,
                                  int newRows, int newColumns) {
        return new SessionRecord(version, name, config, command, ephemeral, persist, SessionStatus.STARTING,
                newContainerId, null, newLauncher, newBootId, createdAt, now.toString(), null, null, null,
                newRows, newColumns, placeholderKey != null ? placeholderKey : PlaceholderKey.generate().value());
    }

    public SessionRecord supervisedBy(ProcessIdentity newSupervisor) {
        return new SessionRecord(version, name, config, command, ephemeral, persist, status, containerId,
                newSupervisor, launcher, bootId, createdAt, startedAt, endedAt, exitCode, problem, rows, columns,
                placeholderKey);
    }

    public SessionRecord withStatus(SessionStatus newStatus) {
        return new SessionRecord(version, name, config, command, ephemeral, persist, newStatus, containerId,
                supervisor, launcher, bootId, createdAt, startedAt, endedAt, exitCode, problem, rows, columns,
                placeholderKey);
    }

    /** The run is over: how it ended, and why when it went wrong. */
    public SessionRecord ended(SessionStatus newStatus, Integer newExitCode, String newProblem, Instant now) {
        return new SessionRecord(version, name, config, command, ephemeral, persist, newStatus, containerId,
                supervisor, launcher, bootId, createdAt, startedAt, now.toString(), newExitCode, newProblem,
                rows, columns, placeholderKey);
    }

    public SessionName sessionName() {
        return SessionName.of(name);
    }

    /** The session's placeholder key (see {@code placeholderKey} above). */
    public PlaceholderKey placeholder() {
        return new PlaceholderKey(placeholderKey);
    }
}
