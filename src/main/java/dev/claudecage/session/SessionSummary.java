package dev.claudecage.session;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@code list} shows of a session, and the part of a {@link SessionReport} that comes from
 * the record and the view alone: the state (with the image's health while it runs), the uptime,
 * mode, network and command. Made without the policy's hash check, the cgroup numbers and the
 * desktop's access file, which a report reads and list's table does not show.
 *
 * @param state the state in words: running, running (healthy), stopped, exited(N), crashed, ...
 */
public record SessionSummary(String name, String state, Long uptimeSeconds, String mode, String network,
                             List<String> command) {

    static SessionSummary of(SessionView view, SessionPaths paths, Instant now) {
        SessionRecord record = view.record();
        Map<String, Object> config = record.config();
        boolean running = view.status() == SessionStatus.RUNNING;
        Long uptime = running && record.startedAt() != null
                ? Duration.between(Instant.parse(record.startedAt()), now).getSeconds() : null;
        // An image's HEALTHCHECK, while the cage runs: running (healthy), running (unhealthy), running (starting).
        String state = view.stateWord() + (running ? HealthMonitor.read(paths.healthFile())
                .map(health -> " (" + health.status() + ")").orElse("") : "");
        return new SessionSummary(record.name(), state, uptime, text(config.get("mode")), text(config.get("network")),
                record.command());
    }

    static String text(Object value) {
        return value == null ? null : value.toString();
    }
}
