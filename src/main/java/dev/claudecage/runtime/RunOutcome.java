package dev.claudecage.runtime;

import java.util.List;
import java.util.Optional;

/**
 * How a one-shot cage ended, in {@code docker run}'s exit codes: the command's own code, 126
 * when it could not be executed, 127 when it was not found, 125 when claude-cage or the
 * runtime failed before the command ran.
 */
public record RunOutcome(int exitCode, String problem) {

    public static final int LAUNCHER_FAILED = 125;
    public static final int CANNOT_EXECUTE = 126;
    public static final int NOT_FOUND = 127;

    /** How runc and crun, then runsc, say that the command could not be started. */
    private static final List<String> START_FAILURES = List.of("unable to start container process",
            "creating process: failed to load");

    /** Reads the runtime's exit code together with its log, which alone tells who failed. */
    public static RunOutcome of(int runtimeExitCode, Optional<String> runtimeError) {
        if (runtimeExitCode == 0 || runtimeError.isEmpty()) {
            return new RunOutcome(runtimeExitCode, null);
        }
        String error = runtimeError.get();
        if (START_FAILURES.stream().anyMatch(error::contains)) {
            if (error.contains("executable file not found") || error.contains("no such file or directory")) {
                return new RunOutcome(NOT_FOUND, error);
            }
            if (error.contains("permission denied")) {
                return new RunOutcome(CANNOT_EXECUTE, error);
            }
        }
        return new RunOutcome(LAUNCHER_FAILED, error);
    }
}
