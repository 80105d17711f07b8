package dev.claudecage.runtime;

import dev.claudecage.UserInputException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The OCI runtimes claude-cage drives. They take the same command line for what we use; runsc
 * (gVisor) also takes the options {@link Runsc} adds, and a spec {@link Runsc#adapt adapted} to it.
 */
public enum RuntimeKind {
    RUNC("runc", "runc"),
    CRUN("crun", "crun"),
    RUNSC("runsc", "runsc");

    private final String configName;
    private final String binaryName;

    RuntimeKind(String configName, String binaryName) {
        this.configName = configName;
        this.binaryName = binaryName;
    }

    public String configName() {
        return configName;
    }

    public String binaryName() {
        return binaryName;
    }

    public static RuntimeKind fromConfig(String name) {
        return Arrays.stream(values())
                .filter(kind -> kind.configName.equals(name.toLowerCase(Locale.ROOT)))
                .findFirst()
                .orElseThrow(() -> new UserInputException("runtime: '" + name + "' is not a supported runtime; use one of "
                        + Arrays.stream(values()).map(RuntimeKind::configName).collect(Collectors.joining(", "))));
    }
}
