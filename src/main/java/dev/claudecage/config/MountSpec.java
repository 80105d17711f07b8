package dev.claudecage.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A host path bind-mounted into the cage. The target is checked here; that the source exists is
 * checked when the configuration is loaded, which also makes it absolute and real. The messages of
 * the IllegalArgumentExceptions thrown here follow the mount text, as in "'/a:b' has a relative cage path 'b'".
 */
public record MountSpec(Path source, String target, boolean readOnly) {

    /** Cage paths that belong to the kernel's view of the cage; mounting over them would hide the masks. */
    public static final List<String> FORBIDDEN_TARGETS = List.of("/proc", "/sys", "/dev");

    public MountSpec {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        String problem = targetProblem(target);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /**
     * Parses {@code HOST:CAGE}, {@code HOST:CAGE:ro} or {@code HOST:CAGE:rw} (read-write unless
     * {@code :ro}). The source is returned as written, possibly relative.
     *
     * @throws IllegalArgumentException saying what is wrong with the text
     */
    public static MountSpec parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("is not HOST:CAGE or HOST:CAGE:ro|rw (paths containing ':' cannot be mounted)");
        }
        if (parts[0].isEmpty()) {
            throw new IllegalArgumentException("has an empty host path");
        }
        boolean readOnly = false;
        if (parts.length == 3) {
            switch (parts[2]) {
                case "ro" -> readOnly = true;
                case "rw" -> readOnly = false;
                default -> throw new IllegalArgumentException("has mode '" + parts[2] + "', not ro or rw");
            }
        }
        return new MountSpec(Path.of(parts[0]), parts[1], readOnly);
    }

    /** The form {@link #parse} reads, always with the mode. */
    public String format() {
        return source + ":" + target + (readOnly ? ":ro" : ":rw");
    }

    private static String targetProblem(String target) {
        if (!target.startsWith("/")) {
            return "has a relative cage path '" + target + "'";
        }
        if (target.equals("/")) {
            return "has the cage's root '/' as its cage path";
        }
        String normalized = Path.of(target).normalize().toString();
        if (!normalized.equals(target)) {
            return "has a cage path '" + target + "' that is not normalized (no '.', '..', '//' or trailing '/'); write "
                    + normalized;
        }
        for (String forbidden : FORBIDDEN_TARGETS) {
            if (target.equals(forbidden) || target.startsWith(forbidden + "/")) {
                return "has a cage path '" + target + "' in " + forbidden + ", which belongs to the kernel's view of the cage";
            }
        }
        return null;
    }
}
