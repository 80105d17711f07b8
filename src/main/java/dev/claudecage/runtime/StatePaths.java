package dev.claudecage.runtime;

import java.nio.file.Path;

/** Where claude-cage keeps runtime state. Everything under {@code /run} is gone after a reboot, by design. */
public record StatePaths(Path runtimeState, Path runs) {

    public static StatePaths forRoot() {
        return new StatePaths(Path.of("/run/claude-cage/runtime"), Path.of("/run/claude-cage/runs"));
    }
}
