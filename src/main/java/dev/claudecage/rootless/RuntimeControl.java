package dev.claudecage.rootless;

import dev.claudecage.CageException;
import dev.claudecage.process.Executables;
import dev.claudecage.host.Host;
import dev.claudecage.process.ProcessRunner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the runtime's control commands for existing cages (list, exec, delete) run. As root: as
 * they are. Rootless, the runtime's state belongs to the cages' namespace root (a subordinate id),
 * so a command about a running cage runs as root of that cage's own user namespace (entered through
 * its init process, which is the user's), and one about no cage in particular (list, the state of a
 * stopped cage) as root of a throwaway namespace mapped the same way, made on first use and gone
 * with this process (its holder ends when this JVM does).
 */
public final class RuntimeControl {

    private final ProcessRunner runner;
    private final boolean rootless;
    private UserNamespace throwaway;

    /** For this process's user: as themselves as root, through user namespaces rootless. */
    public static RuntimeControl forCurrentUser(ProcessRunner runner) {
        return new RuntimeControl(runner);
    }

    private RuntimeControl(ProcessRunner runner) {
        this.runner = runner;
        this.rootless = Host.effectiveUid() != 0;
    }

    /** For a command about no running cage. */
    public synchronized List<String> wrap(List<String> command) {
        if (!rootless) {
            return command;
        }
        if (throwaway == null) {
            RootlessHost host = RootlessHost.detect(IdMap.DEFAULT_CAGE_ID, IdMap.DEFAULT_CAGE_ID);
            throwaway = UserNamespace.create(host.uids(), host.gids(), runner);
        }
        return throwaway.wrap(command);
    }

    /**
     * For a process that lives in a running rootless cage's network namespace (the desktop's relay):
     * in the user and network namespaces of its init process {@code containerPid}, as the cage's
     * user {@code uid}:{@code gid} there (which is this user on the host); the host's file system.
     */
    public List<String> wrapInCageNetwork(long containerPid, int uid, int gid, List<String> command) {
        String nsenter = Executables.find("nsenter").map(Path::toString).orElseThrow(() -> new CageException(
                "rootless cages need nsenter, which is not installed", "apt-get install util-linux"));
        List<String> wrapped = new ArrayList<>(List.of(nsenter, "--target", Long.toString(containerPid), "--user", "--net",
                "--setuid", Integer.toString(uid), "--setgid", Integer.toString(gid), "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** For a command about the running cage whose init process is {@code containerPid} (0 when it is not running). */
    public List<String> wrapFor(long containerPid, List<String> command) {
        if (!rootless || containerPid <= 0) {
            return wrap(command);
        }
        String nsenter = Executables.find("nsenter").map(Path::toString).orElseThrow(() -> new CageException(
                "rootless cages need nsenter, which is not installed", "apt-get install util-linux"));
        List<String> wrapped = new ArrayList<>(List.of(nsenter, "--target", Long.toString(containerPid), "--user", "--"));
        wrapped.addAll(command);
        return wrapped;
    }
}
