package dev.claudecage.net;

import dev.claudecage.CageException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The host end of a rootless cage's way out: a Unix socket (in the cage's private network folder)
 * whose every connection is relayed to a TCP service of the cage's on the host's loopback (its
 * egress proxy or API gateway). A Unix socket, unlike an address, crosses network namespaces: the
 * other end, inside the cage's namespace, is a relay from its loopback to this socket.
 */
public final class UnixBridge implements AutoCloseable {

    private final ServerSocketChannel server;
    private final Path socket;
    private final InetSocketAddress target;
    private final Semaphore slots;
    private final ExecutorService pumps = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "unix-bridge");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean closed;

    private UnixBridge(ServerSocketChannel server, Path socket, InetSocketAddress target, int maxConnections) {
        this.server = server;
        this.socket = socket;
        this.target = target;
        this.slots = new Semaphore(maxConnections);
    }

    /** Listens on {@code socket} (owner-only) and relays to {@code target}, at most {@code maxConnections} at once. */
    public static UnixBridge start(Path socket, InetSocketAddress target, int maxConnections) {
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            // Connecting takes write permission on the socket: only the user (and its cage's root) may.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            UnixBridge bridge = new UnixBridge(server, socket, target, maxConnections);
            Thread acceptor = new Thread(bridge::acceptLoop, "unix-bridge-accept-" + socket.getFileName());
            acceptor.setDaemon(true);
            acceptor.start();
            return bridge;
        } catch (IOException e) {
            throw new CageException("cannot listen on " + socket + ": " + e.getMessage());
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            // A bound on the bridge's own threads; the proxy's and gateway's limits, lower, are the ones a cage meets.
            if (!slots.tryAcquire()) {
                ChannelCopy.closeQuietly(client);
                continue;
            }
            pumps.execute(() -> relay(client));
        }
    }

    private void relay(SocketChannel client) {
        try (client; SocketChannel upstream = SocketChannel.open(target)) {
            Thread back = new Thread(() -> ChannelCopy.untilEnd(upstream, client), "unix-bridge-back");
            back.setDaemon(true);
            back.start();
            ChannelCopy.untilEnd(client, upstream);
            back.join(TimeUnit.MINUTES.toMillis(10));
        } catch (IOException e) {
            // The service behind is gone (the cage is being torn down) or refused: the client sees the close.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            slots.release();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new CageException("cannot close the bridge on " + socket + ": " + e.getMessage());
        } finally {
            pumps.shutdownNow();
        }
    }
}
