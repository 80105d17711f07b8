package dev.claudecage.session;

import dev.claudecage.config.ConfigKey;
import dev.claudecage.runtime.RuntimeKind;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Compares a session's record with the host. A record whose supervisor is alive is the truth;
 * one that claims a supervisor which is gone is corrected: "crashed" when the host kept running
 * (with any cage processes left noted as orphaned), "stopped" when the host has restarted since.
 */
public record Reconciler(HostProbe probe) {

    public SessionView view(SessionRecord record) {
        return view(record, record.containerId() == null ? List.of() : container(record).stream().toList());
    }

    /** The record's cage, looked for under the runtime the record names (any runtime's when it names none known). */
    private Optional<RuntimeContainer> container(SessionRecord record) {
        Object runtime = record.config().get(ConfigKey.RUNTIME.yamlName());
        for (RuntimeKind kind : RuntimeKind.values()) {
            if (kind.configName().equals(runtime)) {
                return probe.container(kind, record.containerId());
            }
        }
        return probe.container(record.containerId());
    }

    public SessionView view(SessionRecord record, List<RuntimeContainer> containers) {
        RuntimeContainer container = null;
        if (record.containerId() != null) {
            // A loop, not a stream's findFirst: see HostProbe.isEmpty.
            for (RuntimeContainer candidate : containers) {
                if (candidate.id().equals(record.containerId())) {
                    container = candidate;
                    break;
                }
            }
        }
        if (!record.status().supervised()) {
            boolean orphaned = leftRunning(record, container);
            return new SessionView(record, record.status(), orphaned
                    ? "its cage " + record.containerId() + " still has processes: claude-cage gc removes them"
                    : record.problem(), container, orphaned);
        }
        SessionName name = record.sessionName();
        if (probe.isSupervisor(record.supervisor(), name)) {
            String problem = null;
            if (record.status() == SessionStatus.RUNNING && (container == null || !container.running())) {
                problem = "its supervisor runs but the runtime has no running container " + record.containerId();
            }
            return new SessionView(record, record.status(), problem, container, false);
        }
        if (record.status() == SessionStatus.STARTING && record.supervisor() == null && record.launcher() != null
                && record.launcher().isAlive()) {
            return new SessionView(record, SessionStatus.STARTING, null, container, false);
        }
        boolean orphaned = leftRunning(record, container);
        if (record.bootId() != null && !record.bootId().equals(probe.bootId())) {
            return new SessionView(record, SessionStatus.STOPPED, "the host restarted while it ran", container, orphaned);
        }
        String problem = (record.supervisor() == null ? "it never got a supervisor" : "its supervisor (pid "
                + record.supervisor().pid() + ") died") + (orphaned
                ? "; its cage " + record.containerId() + " is still running with no one to stop it: "
                        + "claude-cage destroy " + name + " or claude-cage gc removes it"
                : "");
        return new SessionView(record, SessionStatus.CRASHED, problem, container, orphaned);
    }

    /** Whether a supervisor (or, while it starts, the command launching it) owns the session right now. */
    public boolean isLive(SessionRecord record) {
        if (!record.status().supervised()) {
            return false;
        }
        if (probe.isSupervisor(record.supervisor(), record.sessionName())) {
            return true;
        }
        return record.status() == SessionStatus.STARTING && record.supervisor() == null && record.launcher() != null
                && record.launcher().isAlive();
    }

    /** The record as it should be written, when the view corrects it; the record itself otherwise. */
    public static SessionRecord corrected(SessionView view, Instant now) {
        if (!view.stale()) {
            return view.record();
        }
        return view.record().ended(view.status(), view.record().exitCode(), view.problem(), now);
    }

    private boolean leftRunning(SessionRecord record, RuntimeContainer container) {
        if (record.containerId() == null) {
            return false;
        }
        return (container != null && container.running()) || !probe.cgroupProcesses(record.containerId()).isEmpty();
    }
}
