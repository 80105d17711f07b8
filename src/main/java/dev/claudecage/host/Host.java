package dev.claudecage.host;

import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about the host that decide what claude-cage may do. */
public final class Host {

    /** Set by bin/claude-cage: the digits of the standard descriptors (0, 1, 2) that are terminals. */
    static final String TERMINALS_PROPERTY = "claudecage.terminals";

    private Host() {
    }

    public static int effectiveUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new CageException("cannot read this process's uid from /proc/self: " + e.getMessage());
        }
    }

    public static int effectiveGid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        } catch (IOException e) {
            throw new CageException("cannot read this process's gid from /proc/self: " + e.getMessage());
        }
    }

    /** The login name of this process's user (the JDK reads it from the password database by uid). */
    public static String userName() {
        return System.getProperty("user.name");
    }

    /**
     * Whether this process's descriptor {@code fd} (0, 1, 2) is a terminal. bin/claude-cage has asked
     * its shell ({@code test -t}) and says which were in {@value #TERMINALS_PROPERTY}: the same isatty
     * answer without loading JNA, which costs a one-shot run about 35 ms. Started any other way (the
     * supervisor, java -jar), the launcher asks the C library itself.
     */
    public static boolean isTerminal(int fd) {
        String known = System.getProperty(TERMINALS_PROPERTY);
        if (known != null && fd >= 0 && fd <= 2) {
            return known.indexOf('0' + fd) >= 0;
        }
        try {
            return LinuxSyscalls.get().isatty(fd) == 1;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Whether this process's descriptor {@code fd} is a regular file (stdout redirected to a file, say). */
    public static boolean isRegularFile(int fd) {
        return Files.isRegularFile(Path.of("/proc/self/fd/" + fd));
    }

    /** Whether the launcher talks to a terminal on both ends, so the cage should get one too. */
    public static boolean interactiveTerminal() {
        // Java 17's System.console() is non-null only when stdin and stdout are both terminals.
        return System.console() != null;
    }
}
