package dev.claudecage.host;

import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The one place that decides where claude-cage keeps its state. As root: {@code /run/claude-cage}
 * (runtime state, gone after a reboot) and {@code /var/lib/claude-cage} (images, sessions). As any
 * other user (rootless): {@code $XDG_RUNTIME_DIR/claude-cage} and {@code $XDG_DATA_HOME/claude-cage}
 * ({@code ~/.local/share/claude-cage}); configuration follows {@code $XDG_CONFIG_HOME} in both modes.
 * <p>
 * The runtime folder is resolved only when asked for, so that commands that need none (images,
 * doctor) work without {@code $XDG_RUNTIME_DIR}.
 */
public final class StateLayout {

    /**
     * Set in a JVM that runs as root of a rootless user's namespace (see {@code NamespaceReexec}):
     * the host uid of that user, whose state this process works on.
     */
    public static final String NAMESPACE_OWNER_PROPERTY = "claudecage.namespaceOwner";
    private static final Path ROOT_RUN = Path.of("/run/claude-cage");
    private static final Path ROOT_DATA = Path.of("/var/lib/claude-cage");

    private final boolean rootless;
    private final int uid;
    private final Path data;
    private final Map<String, String> env;

    private StateLayout(boolean rootless, int uid, Path data, Map<String, String> env) {
        this.rootless = rootless;
        this.uid = uid;
        this.data = data;
        this.env = env;
    }

    /**
     * The layout for this process's user; inside a rootless user's namespace (where this process is
     * root, see {@code NamespaceReexec}), that user's.
     */
    public static StateLayout current() {
        return forUser(namespaceOwner().orElse(Host.effectiveUid()), System.getenv());
    }

    /** The host uid whose user namespace this JVM runs in as root, if it was started there (see NamespaceReexec). */
    public static OptionalInt namespaceOwner() {
        String owner = System.getProperty(NAMESPACE_OWNER_PROPERTY);
        return owner == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(owner));
    }

    public static StateLayout forUser(int uid, Map<String, String> env) {
        if (uid == 0) {
            return new StateLayout(false, 0, ROOT_DATA, env);
        }
        Path dataHome = absoluteOrNull(env.get("XDG_DATA_HOME"));
        if (dataHome == null) {
            String home = env.get("HOME");
            if (home == null || !home.startsWith("/")) {
                throw new CageException("neither $XDG_DATA_HOME nor $HOME names an absolute folder, so there is no place "
                        + "for this user's images and sessions", "set XDG_DATA_HOME (e.g. ~/.local/share)");
            }
            dataHome = Path.of(home, ".local", "share");
        }
        return new StateLayout(true, uid, dataHome.resolve("claude-cage"), env);
    }

    public boolean rootless() {
        return rootless;
    }

    /** Images and sessions: kept across reboots. */
    public Path data() {
        return data;
    }

    public Path images() {
        return data.resolve("images");
    }

    /**
     * Runtime state (runtime state roots, cage bundles, sockets, locks). Rootless, this is
     * {@code $XDG_RUNTIME_DIR/claude-cage}; when that variable is not set, {@code /run/user/UID}
     * if it is this user's private folder, else an error: a guessed folder in /tmp could be
     * another user's, and state there would not vanish at logout.
     */
    public Path run() {
        if (!rootless) {
            return ROOT_RUN;
        }
        String variable = env.get("XDG_RUNTIME_DIR");
        Path runtimeDir = absoluteOrNull(variable);
        if (System.getProperty(NAMESPACE_OWNER_PROPERTY) != null) {
            // Inside the user's namespace the user's folders show the namespace's ids; the checks
            // below ran outside, before the re-run.
            return (runtimeDir != null ? runtimeDir : Path.of("/run/user", Integer.toString(uid))).resolve("claude-cage");
        }
        if (variable != null && !variable.isBlank() && runtimeDir == null) {
            throw new CageException("$XDG_RUNTIME_DIR must be an absolute path, not '" + variable + "'");
        }
        if (runtimeDir == null) {
            Path fallback = Path.of("/run/user", Integer.toString(uid));
            if (!isPrivateTo(fallback, uid)) {
                throw new CageException("$XDG_RUNTIME_DIR is not set, and " + fallback + " is not a private (0700) folder "
                        + "of this user: there is no place for runtime state",
                        "log in through a login manager that makes it, or make one: mkdir -m 700 /tmp/cage-run-$(id -u) && "
                                + "export XDG_RUNTIME_DIR=/tmp/cage-run-$(id -u)");
            }
            runtimeDir = fallback;
        } else if (!isPrivateTo(runtimeDir, uid)) {
            throw new CageException("$XDG_RUNTIME_DIR (" + runtimeDir + ") is not a folder of this user (uid " + uid
                    + ") that only it can write", "point XDG_RUNTIME_DIR at your own 0700 folder");
        }
        return runtimeDir.resolve("claude-cage");
    }

    private static Path absoluteOrNull(String value) {
        return value == null || !value.startsWith("/") ? null : Path.of(value);
    }

    private static boolean isPrivateTo(Path dir, int uid) {
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                    || !Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(uid)) {
                return false;
            }
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
            return !permissions.contains(PosixFilePermission.GROUP_WRITE) && !permissions.contains(PosixFilePermission.OTHERS_WRITE);
        } catch (IOException e) {
            return false;
        }
    }
}
