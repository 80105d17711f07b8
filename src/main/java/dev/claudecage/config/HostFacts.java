package dev.claudecage.config;

/** What the configuration is checked against on this machine; tests pass their own. */
public record HostFacts(int cpuCount) {

    public HostFacts {
        if (cpuCount < 1) {
            throw new IllegalArgumentException("cpuCount must be at least 1, got " + cpuCount);
        }
    }

    /** The CPUs this process may run on (affinity and cgroup limits included). */
    public static HostFacts current() {
        return new HostFacts(Runtime.getRuntime().availableProcessors());
    }
}
