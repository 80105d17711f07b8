package dev.claudecage.session;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.claudecage.host.Host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A process as the kernel knows it: its pid and its start time in clock ticks since boot
 * (field 22 of /proc/PID/stat). The pair survives pid reuse: a recycled pid has another start time.
 */
public record ProcessIdentity(long pid, long startTicks) {

    private static final Path PROC = Path.of("/proc");

    /** The process with this pid right now, if there is one. */
    public static Optional<ProcessIdentity> of(long pid) {
        return startTicks(pid).map(ticks -> new ProcessIdentity(pid, ticks));
    }

    public static ProcessIdentity current() {
        long pid = ProcessHandle.current().pid();
        return of(pid).orElseThrow(() -> new IllegalStateException("cannot read /proc/" + pid + "/stat"));
    }

    /** Whether this very process still exists (and is not a zombie). */
    @JsonIgnore
    public boolean isAlive() {
        // One read of /proc/PID/stat for both: list asks this of every session's supervisor and cage.
        return statFields(pid).map(fields -> !isZombie(fields) && Long.parseLong(fields.get(19)) == startTicks)
                .orElse(false);
    }

    /** The process's arguments, empty when it is gone. */
    @JsonIgnore
    public List<String> commandLine() {
        return commandLine(pid);
    }

    public static List<String> commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve("cmdline"));
            if (raw.length == 0) {
                return List.of();
            }
            String text = new String(raw, StandardCharsets.UTF_8);
            if (text.endsWith("\0")) {
                text = text.substring(0, text.length() - 1);
            }
            return Arrays.asList(text.split("\0", -1));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Whether the process runs as this process's user (false when it is gone). */
    static boolean ownedByThisUser(long pid) {
        try {
            return Files.getAttribute(PROC.resolve(Long.toString(pid)), "unix:uid").equals(Host.effectiveUid());
        } catch (IOException e) {
            return false;
        }
    }

    static Optional<Long> startTicks(long pid) {
        return statFields(pid).map(fields -> Long.parseLong(fields.get(19)));
    }

    private static boolean isZombie(List<String> statFields) {
        return "Z".equals(statFields.get(0)) || "X".equals(statFields.get(0));
    }

    /** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses): state first. */
    static Optional<List<String>> statFields(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            return Optional.of(parseStat(stat));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static List<String> parseStat(String stat) {
        int end = stat.lastIndexOf(')');
        if (end < 0) {
            throw new IllegalArgumentException("not a /proc/PID/stat line: " + stat);
        }
        return Arrays.asList(stat.substring(end + 2).strip().split(" "));
    }
}
