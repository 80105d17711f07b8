package dev.claudecage.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether this host can confine cages with AppArmor. The answer is read from the kernel, never
 * assumed: on a kernel without AppArmor the layer is reported unavailable, not silently skipped.
 */
public record AppArmor(Status status, String detail) {

    public static final String PROFILE_NAME = "claude-cage";

    public enum Status {
        /** The kernel enforces AppArmor and our profile is loaded. */
        ENFORCED,
        /** The kernel has AppArmor, but our profile is not loaded: cages must not start unconfined. */
        PROFILE_NOT_LOADED,
        /** The kernel has no AppArmor. */
        UNAVAILABLE
    }

    public static AppArmor detect() {
        return detect(Path.of("/sys/module/apparmor/parameters/enabled"), Path.of("/sys/kernel/security/apparmor/profiles"));
    }

    static AppArmor detect(Path enabledFlag, Path loadedProfiles) {
        if (!"Y".equals(read(enabledFlag))) {
            return new AppArmor(Status.UNAVAILABLE, "unavailable on this host: the kernel has no AppArmor");
        }
        String profiles = read(loadedProfiles);
        boolean loaded = profiles.lines().anyMatch(line -> line.startsWith(PROFILE_NAME + " "));
        return loaded
                ? new AppArmor(Status.ENFORCED, "profile '" + PROFILE_NAME + "' loaded and enforced")
                : new AppArmor(Status.PROFILE_NOT_LOADED,
                "the kernel has AppArmor but profile '" + PROFILE_NAME + "' is not loaded (run: sudo make load-apparmor)");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
