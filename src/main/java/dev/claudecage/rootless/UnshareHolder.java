package dev.claudecage.rootless;

import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A process that holds a user namespace it made with {@code unshare --user}: the rootless cage's
 * ({@link UserNamespace}), and a root-mode cage's own, made ahead of the cage to shift its mounts with.
 */
public final class UnshareHolder {

    private static final long POLL_MILLIS = 1;

    private UnshareHolder() {
    }

    /**
     * Returns once {@code holder} is in a user namespace other than this process's: only then can its
     * maps be written. Fails when it ends first, or takes longer than {@code timeout}.
     *
     * @param what       the namespace, as the messages name it, e.g. "a user namespace to shift mounts with"
     * @param deadAtOnce what to do when unshare ends at once
     */
    public static void awaitUnshared(Process holder, Duration timeout, String what, String deadAtOnce) {
        Path own = Path.of("/proc/self/ns/user");
        Path theirs = Path.of("/proc", Long.toString(holder.pid()), "ns", "user");
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            String ownNamespace = Files.readSymbolicLink(own).toString();
            while (System.nanoTime() < deadline) {
                if (!holder.isAlive()) {
                    throw new CageException("cannot create " + what + ": unshare ended at once: " + stderr(holder),
                            deadAtOnce);
                }
                try {
                    if (!Files.readSymbolicLink(theirs).toString().equals(ownNamespace)) {
                        return;
                    }
                } catch (IOException raced) {
                    // Between fork and exec, or just ended: the next round tells.
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (IOException e) {
            throw new CageException("cannot read " + own + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while creating " + what);
        }
        throw new CageException("unshare did not create a user namespace within " + timeout.toSeconds() + "s");
    }

    private static String stderr(Process holder) {
        try {
            return new String(holder.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(its error output could not be read: " + e.getMessage() + ")";
        }
    }
}
