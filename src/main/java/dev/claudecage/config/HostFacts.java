package dev.claudecage.config;

import dev.claudecage.host.InvokingUser;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.StateLayout;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the configuration is checked against on this machine; tests pass their own.
 *
 * @param rootless     whether cages run in the invoking user's namespace, where mounts are not shifted
 * @param sudoUser     the user who ran {@code sudo}, whom the cage works as in its mounts by default
 * @param stateFolders claude-cage's own state on this host, which no mount may reach
 */
public record HostFacts(int cpuCount, boolean rootless, Optional<HostIds> sudoUser, List<Path> stateFolders) {

    public HostFacts {
        if (cpuCount < 1) {
            throw new IllegalArgumentException("cpuCount must be at least 1, got " + cpuCount);
        }
        Objects.requireNonNull(sudoUser, "sudoUser");
        stateFolders = List.copyOf(stateFolders);
    }

    /**
     * The CPUs this process may run on (affinity and cgroup limits included), its mode and sudo
     * user, and its images and sessions (the runtime state is in /run, or the user's runtime folder
     * there, rootless).
     */
    public static HostFacts current() {
        StateLayout layout = StateLayout.current();
        return new HostFacts(Runtime.getRuntime().availableProcessors(), layout.rootless(),
                InvokingUser.sudoIds(System.getenv()), List.of(layout.data()));
    }
}
