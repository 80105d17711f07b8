package dev.claudecage.session;

import java.nio.file.Path;

/**
 * Where one session keeps its things. On disk, under {@code /var/lib/claude-cage/sessions/NAME}:
 * the record ({@code state.json}), the persisted home ({@code home/}) and the logs ({@code logs/}).
 * In memory, under {@code /run/claude-cage/sessions/NAME}: the supervisor's pid, its socket, the
 * session lock, and the API key while it is handed over. An ephemeral session keeps its logs in
 * the memory half too, so that nothing of it ever reaches the disk but its record.
 */
public record SessionPaths(SessionName name, Path dataDir, Path runDir, boolean ephemeral) {

    public Path stateFile() {
        return dataDir.resolve("state.json");
    }

    /** The policy of the current or last run ({@link SessionPolicy}), beside the record and out of every mount. */
    public Path policyFile() {
        return dataDir.resolve("policy.json");
    }

    /** The plan of the current run ({@code CagePlan.Recorded}), resolved by the start that began it. */
    public Path planFile() {
        return runDir.resolve("plan.json");
    }

    /** The persisted home, bind-mounted at /home/claude; owned by the cage's user. */
    public Path homeDir() {
        return dataDir.resolve("home");
    }

    /** A desktop session's published port and VNC password (0600); none for a CLI session. */
    public Path desktopFile() {
        return dataDir.resolve("desktop.json");
    }

    public Path logsDir() {
        return ephemeral ? runDir.resolve("logs") : dataDir.resolve("logs");
    }

    /** Everything the cage wrote to its terminal, rotated. */
    public Path outputLog() {
        return logsDir().resolve("session.log");
    }

    /** The supervisor's own diagnostics. */
    public Path supervisorLog() {
        return logsDir().resolve("supervisor.log");
    }

    /** One JSON line per network decision, written by the cage's networking. */
    public Path auditLog() {
        return logsDir().resolve("audit.jsonl");
    }

    /**
     * The results of {@code verify --session} during the current run, one trail line each, which the supervisor
     * writes into the evidence trail when the run ends: the trail has one writer, the supervisor.
     */
    public Path verifications() {
        return runDir.resolve("verifications.jsonl");
    }

    public Path pidFile() {
        return runDir.resolve("supervisor.pid");
    }

    /** The supervisor's Unix socket: attach clients and stop requests. */
    public Path socket() {
        return runDir.resolve("supervisor.sock");
    }

    /** A rootless desktop session's way into its cage's loopback: a relay's socket (docs/rootless.md). */
    public Path desktopSocket() {
        return runDir.resolve("desktop.sock");
    }

    public Path lockFile() {
        return runDir.resolve("lock");
    }

    /** The API key from --api-key, 0600, read and removed by the supervisor as it starts. */
    public Path keyFile() {
        return runDir.resolve("api-key");
    }

    /** The image's HEALTHCHECK state while the cage runs, written by the supervisor ({@link HealthMonitor}). */
    public Path healthFile() {
        return runDir.resolve("health.json");
    }

    public Path networkStateDir() {
        return runDir.resolve("net");
    }
}
