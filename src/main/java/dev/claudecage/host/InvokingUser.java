package dev.claudecage.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The user who asked for what claude-cage does: under sudo the one who ran it (SUDO_USER's home
 * from the password database, SUDO_UID and SUDO_GID), else this process's own user. Whose files
 * the host reads on the user's behalf: their registry logins, their Claude Code setup and login.
 */
public record InvokingUser(Path home, HostIds ids) {

    private static final Path PASSWD = Path.of("/etc/passwd");

    public static InvokingUser current() {
        return of(System.getenv(), PASSWD, new HostIds(Host.effectiveUid(), Host.effectiveGid()));
    }

    /** The invoking user for a process with this environment, whose own ids are {@code own}. */
    static InvokingUser of(Map<String, String> env, Path passwd, HostIds own) {
        return new InvokingUser(home(env, passwd), sudoIds(env).orElse(own));
    }

    /** The home of the user who asked: under sudo the invoking user's, from {@code passwd}; else $HOME. */
    public static Path home(Map<String, String> env, Path passwd) {
        String sudoUser = env.get("SUDO_USER");
        if (sudoUser != null && !sudoUser.isBlank() && !sudoUser.equals("root")) {
            try {
                for (String line : Files.readAllLines(passwd)) {
                    String[] fields = line.split(":", -1);
                    if (fields.length >= 6 && fields[0].equals(sudoUser) && !fields[5].isEmpty()) {
                        return Path.of(fields[5]);
                    }
                }
            } catch (IOException e) {
                // No password database to read: fall back to this process's home.
            }
        }
        return Path.of(env.getOrDefault("HOME", System.getProperty("user.home")));
    }

    /** The user who ran {@code sudo}, from SUDO_UID and SUDO_GID when both are numbers. */
    public static Optional<HostIds> sudoIds(Map<String, String> env) {
        String uid = env.get("SUDO_UID");
        String gid = env.get("SUDO_GID");
        if (uid == null || gid == null || !uid.matches("[0-9]{1,9}") || !gid.matches("[0-9]{1,9}")) {
            return Optional.empty();
        }
        return Optional.of(new HostIds(Integer.parseInt(uid), Integer.parseInt(gid)));
    }
}
