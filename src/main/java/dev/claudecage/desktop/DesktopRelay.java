package dev.claudecage.desktop;

import dev.claudecage.CageException;
import dev.claudecage.process.Executables;
import dev.claudecage.process.DiesWithParent;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.RuntimeControl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A rootless desktop's way in: socat in the cage's network namespace, as the cage's user (this
 * user on the host), listening on a Unix socket (0600) in the session's private run folder and
 * connecting each client to the desktop's port on the cage's loopback. A Unix socket crosses
 * network namespaces; the rootless supervisor cannot enter the cage's, which its user namespace owns.
 */
public record DesktopRelay(Process process, Path socket) implements AutoCloseable {

    private static final Duration START = Duration.ofSeconds(10);

    public static DesktopRelay start(RuntimeControl control, long cagePid, int uid, int gid, Path socket, int cagePort,
                                     ProcessRunner runner) {
        String socat = Executables.find("socat").map(Path::toString).orElseThrow(() -> new CageException(
                "a rootless desktop needs socat, which is not installed", "apt-get install socat"));
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new CageException("cannot remove the old desktop socket " + socket + ": " + e.getMessage());
        }
        // The parent-death signal is set after nsenter changes the user (a change of credentials clears it).
        Process process = runner.startBackground(control.wrapInCageNetwork(cagePid, uid, gid, DiesWithParent.wrap(
                List.of(socat, "UNIX-LISTEN:" + socket + ",fork,mode=600", "TCP4:127.0.0.1:" + cagePort))));
        DesktopRelay relay = new DesktopRelay(process, socket);
        long deadline = System.nanoTime() + START.toNanos();
        while (!Files.exists(socket)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                relay.close();
                throw new CageException("the desktop's relay into the cage did not start" + (process.isAlive() ? " within "
                        + START.toSeconds() + " s" : " (exit code " + process.exitValue() + ")"));
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                relay.close();
                throw new CageException("interrupted while the desktop's relay started");
            }
        }
        return relay;
    }

    @Override
    public void close() {
        try {
            ProcessRunner.stop(process, Duration.ofSeconds(5));
            Files.deleteIfExists(socket);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // The socket goes with the session's run folder.
        }
    }
}
