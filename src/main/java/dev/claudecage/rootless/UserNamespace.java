package dev.claudecage.rootless;

import dev.claudecage.CageException;
import dev.claudecage.process.Executables;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A rootless cage's user namespace (with its own mount namespace), held open by a small helper
 * process. runc can map a single range itself, but a cage needs several (its user is the invoking
 * user, everything else subordinate ids), which only the setuid newuidmap and newgidmap may write;
 * so, as podman and rootlesskit do, the namespace is made first, mapped from outside, and the
 * cage's setup (the overlay root, runc itself) runs inside it as its root.
 * <p>
 * The helper is {@code unshare --user --mount -- cat} on a pipe only this JVM holds: it ends when
 * {@link #close()} closes the pipe, or when the JVM dies, however it dies. The namespace itself
 * lives on while a process is in it (the cage), and goes with the last one.
 */
public final class UserNamespace implements CommandScope, AutoCloseable {

    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(10);

    private final Process holder;
    private final String nsenter;
    private final boolean ownNetwork;

    private UserNamespace(Process holder, String nsenter, boolean ownNetwork) {
        this.holder = holder;
        this.nsenter = nsenter;
        this.ownNetwork = ownNetwork;
    }

    /** Makes a user and mount namespace and writes {@code uids} and {@code gids} into it. */
    public static UserNamespace create(IdMap uids, IdMap gids, ProcessRunner runner) {
        return create(uids, gids, false, runner);
    }

    /**
     * As {@link #create(IdMap, IdMap, ProcessRunner)}; with {@code ownNetwork}, also a network
     * namespace that has only loopback (up), where {@link #wrapInNetwork} runs its commands: the
     * network of a rootless filtered cage, whose only way out is what is bridged into it.
     */
    public static UserNamespace create(IdMap uids, IdMap gids, boolean ownNetwork, ProcessRunner runner) {
        String unshare = tool("unshare", "util-linux");
        String nsenter = tool("nsenter", "util-linux");
        String newuidmap = tool("newuidmap", "uidmap");
        String newgidmap = tool("newgidmap", "uidmap");
        List<String> command = new ArrayList<>(List.of(unshare, "--user", "--mount", "--propagation", "private"));
        if (ownNetwork) {
            command.add("--net");
        }
        command.addAll(List.of("--", "cat"));
        Process holder = runner.startTethered(command);
        UserNamespace namespace = new UserNamespace(holder, nsenter, ownNetwork);
        try {
            UnshareHolder.awaitUnshared(holder, SETUP_TIMEOUT, "a user namespace",
                    "claude-cage doctor says what this host lacks for rootless cages");
            runner.run(mapCommand(newuidmap, holder.pid(), uids), SETUP_TIMEOUT);
            runner.run(mapCommand(newgidmap, holder.pid(), gids), SETUP_TIMEOUT);
            if (ownNetwork) {
                runner.run(namespace.wrapInNetwork(List.of(tool("ip", "iproute2"), "link", "set", "lo", "up")), SETUP_TIMEOUT);
            }
            return namespace;
        } catch (RuntimeException e) {
            namespace.close();
            throw e;
        }
    }

    static List<String> mapCommand(String helper, long pid, IdMap map) {
        List<String> command = new ArrayList<>(List.of(helper, Long.toString(pid)));
        command.addAll(map.helperArguments());
        return command;
    }

    /** The namespace as a path another process can join, e.g. {@code /proc/PID/ns/user}. */
    public Path namespacePath(String type) {
        return Path.of("/proc", Long.toString(holder.pid()), "ns", type);
    }

    /**
     * Runs {@code command} as root of this namespace, in its mount namespace. The host's network
     * stays: a cage joins this namespace's own network by path, so that a verify control can leave it.
     */
    @Override
    public List<String> wrap(List<String> command) {
        return enter(List.of("--user", "--mount"), command);
    }

    /** As {@link #wrap}, in this namespace's own network namespace. */
    public List<String> wrapInNetwork(List<String> command) {
        if (!ownNetwork) {
            throw new IllegalStateException("this user namespace was made without a network namespace");
        }
        return enter(List.of("--user", "--mount", "--net"), command);
    }

    private List<String> enter(List<String> namespaces, List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of(nsenter, "--target", Long.toString(holder.pid())));
        wrapped.addAll(namespaces);
        wrapped.add("--");
        wrapped.addAll(command);
        return wrapped;
    }

    private static String tool(String name, String debianPackage) {
        return Executables.find(name).map(Path::toString).orElseThrow(() -> new CageException(
                "rootless cages need " + name + ", which is not installed", "apt-get install " + debianPackage));
    }

    /** Ends the helper; the namespace goes when the last process in it has ended. */
    @Override
    public void close() {
        try {
            holder.getOutputStream().close();
        } catch (IOException e) {
            // Closing our end of the pipe cannot fail in a way that matters: the helper is killed next if needed.
        }
        try {
            if (!holder.waitFor(SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                holder.destroyForcibly();
                holder.waitFor(SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            holder.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
