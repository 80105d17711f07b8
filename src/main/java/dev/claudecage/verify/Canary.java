package dev.claudecage.verify;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A listener on the host's loopback (IPv4 and IPv6) that counts every connection it accepts.
 * The network probes assert on its record, not only on the error the cage saw.
 */
final class Canary implements AutoCloseable {

    private final List<ServerSocket> sockets = new ArrayList<>();
    private final AtomicInteger hits = new AtomicInteger();

    Canary() {
        try {
            for (String address : List.of("127.0.0.1", "::1")) {
                ServerSocket socket = new ServerSocket();
                socket.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
                sockets.add(socket);
                Thread acceptor = new Thread(() -> accept(socket), "canary-" + address);
                acceptor.setDaemon(true);
                acceptor.start();
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot start the loopback canary", e);
        }
    }

    int port4() {
        return sockets.get(0).getLocalPort();
    }

    int port6() {
        return sockets.get(1).getLocalPort();
    }

    /** Connections accepted since the last call. */
    int takeHits() {
        return hits.getAndSet(0);
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                Socket connection = socket.accept();
                hits.incrementAndGet();
                connection.close();
            } catch (IOException closed) {
                return;
            }
        }
    }

    @Override
    public void close() {
        for (ServerSocket socket : sockets) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Closing a listener only fails when it is already closed.
            }
        }
    }
}
