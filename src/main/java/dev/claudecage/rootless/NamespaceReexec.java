package dev.claudecage.rootless;

import dev.claudecage.CageException;
import dev.claudecage.host.Host;
import dev.claudecage.host.StateLayout;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.ThisJvm;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Runs a command of claude-cage's again, in a new JVM, as root of a user namespace mapped as the
 * user's cages are: the way a rootless user writes its own image store, whose layers must belong
 * to the ids of that namespace (as {@code podman unshare} does for podman's). Inside, the JVM is
 * root of the namespace but keeps the user's state layout ({@link StateLayout#NAMESPACE_OWNER_PROPERTY}).
 */
public final class NamespaceReexec {

    private NamespaceReexec() {
    }

    /** The host uid whose namespace this JVM runs in as root, if it was started by {@link #runInside}. */
    public static OptionalInt owner() {
        return StateLayout.namespaceOwner();
    }

    /**
     * For a rootless user outside any namespace: runs claude-cage's {@code mainClass} with {@code args}
     * inside one and returns its exit code. Empty for root, and inside the namespace already: the
     * caller goes on.
     */
    public static OptionalInt runInside(String mainClass, List<String> args, int cageUid, int cageGid,
                                        ProcessRunner runner) throws InterruptedException {
        if (Host.effectiveUid() == 0 || owner().isPresent()) {
            return OptionalInt.empty();
        }
        // Checked here, where the user's folders show the user's own ids.
        StateLayout.current().run();
        String java = ProcessHandle.current().info().command().orElseThrow(() -> new CageException(
                "cannot tell which java runs claude-cage, to run it again in the user namespace"));
        List<String> command = new ArrayList<>(List.of(java, ThisJvm.NATIVE_ACCESS,
                "-D" + StateLayout.NAMESPACE_OWNER_PROPERTY + "=" + Host.effectiveUid(),
                "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        RootlessHost host = RootlessHost.detect(cageUid, cageGid);
        try (UserNamespace namespace = UserNamespace.create(host.uids(), host.gids(), runner)) {
            return OptionalInt.of(runner.startInteractive(namespace.wrap(command)).waitFor());
        }
    }
}
