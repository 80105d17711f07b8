package dev.claudecage.session;

import dev.claudecage.desktop.DesktopAccess;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@code status} and {@code list --json} print about a session: the observed state with the
 * reason when it is not the recorded one, the processes, the policy it was created with, and the
 * live resource numbers of a running cage.
 *
 * @param state      the state in words: running, stopped, exited(N), crashed, ...
 * @param cagePid    the cage's first process as the host sees it, while it runs
 * @param resources  live cgroup numbers, while it runs
 * @param desktopUrl      where the desktop is served on the host (the noVNC page), in desktop mode
 * @param desktopPassword the desktop's VNC password, in desktop mode
 * @param policy          the policy of the current or last run, as its supervisor recorded it, or null before the first
 * @param policyIntact    whether the policy file still matches its hash
 * @param workspaceWarnings git repositories the cage left in its writable mounts that would run programs
 *                          ({@code NestedRepositories}); looked for by {@code status} only, else null
 */
public record SessionReport(String name, String state, String status, Integer exitCode, String problem, boolean orphaned,
                            String containerId, Long supervisorPid, Long cagePid, String createdAt, String startedAt,
                            String endedAt, Long uptimeSeconds, String image, String rootfs, String mode, String network,
                            List<String> mounts, List<String> command, boolean persist, boolean ephemeral, String home,
                            String runtime, CgroupStats resources, String desktopUrl,
                            String desktopPassword, SessionPolicy policy, Boolean policyIntact,
                            List<String> workspaceWarnings) {

    public SessionReport withWorkspaceWarnings(List<String> warnings) {
        return new SessionReport(name, state, status, exitCode, problem, orphaned, containerId, supervisorPid, cagePid,
                createdAt, startedAt, endedAt, uptimeSeconds, image, rootfs, mode, network, mounts, command, persist,
                ephemeral, home, runtime, resources, desktopUrl, desktopPassword, policy, policyIntact,
                List.copyOf(warnings));
    }

    static SessionReport of(SessionView view, SessionPaths paths, CgroupStats resources, DesktopAccess desktop,
                            Instant now) {
        SessionRecord record = view.record();
        Map<String, Object> config = record.config();
        SessionSummary summary = SessionSummary.of(view, paths, now);
        boolean running = view.status() == SessionStatus.RUNNING;
        java.util.Optional<SessionPolicy> policy = SessionPolicy.read(paths.policyFile());
        Long cagePid = view.container() != null && view.container().running() && view.container().pid() > 0
                ? view.container().pid() : null;
        return new SessionReport(record.name(), summary.state(), view.status().word(), record.exitCode(), view.problem(),
                view.orphaned(), record.containerId(), view.live() && record.supervisor() != null
                        ? record.supervisor().pid() : null,
                cagePid, record.createdAt(), record.startedAt(), record.endedAt(), summary.uptimeSeconds(),
                SessionSummary.text(config.get("image")), SessionSummary.text(config.get("rootfs")), summary.mode(),
                summary.network(), list(config.get("mounts")), record.command(), record.persist(), record.ephemeral(),
                record.persist() ? paths.homeDir().toString() : null, SessionSummary.text(config.get("runtime")),
                running ? resources : null, desktop == null ? null : desktop.mapping().url(),
                desktop == null ? null : desktop.password(), policy.orElse(null),
                policy.map(SessionPolicy::intact).orElse(null), null);
    }

    private static List<String> list(Object value) {
        return value instanceof List<?> items ? items.stream().map(String::valueOf).toList() : List.of();
    }
}
