package dev.claudecage.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP server on a test host, for tests that move data through a cage's CONNECT tunnels: it reads
 * every connection to its end, counting the bytes, and sends them back when it echoes (or drops them
 * when it is a sink). Created on a thread inside a test host's network namespace, it listens there.
 */
public final class DataHost implements AutoCloseable {

    private static final int SOCKET_TIMEOUT_MILLIS = 5 * 60 * 1000;

    private final ServerSocket server;
    private final boolean echo;
    private final AtomicLong received = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    private DataHost(ServerSocket server, boolean echo) {
        this.server = server;
        this.echo = echo;
    }

    /** Reads and drops what comes, counting it. */
    public static DataHost sink(String address, int port) {
        return start(address, port, false);
    }

    /** Sends back what comes, counting it. */
    public static DataHost echo(String address, int port) {
        return start(address, port, true);
    }

    private static DataHost start(String address, int port, boolean echo) {
        try {
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(address), port), 256);
            DataHost host = new DataHost(server, echo);
            Thread acceptor = new Thread(host::acceptUntilClosed, "data-host-" + port);
            acceptor.setDaemon(true);
            acceptor.start();
            return host;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address + ":" + port, e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far: a canary's hits, even those that sent nothing. */
    public int connections() {
        return connections.get();
    }

    /** Bytes received on every connection so far. */
    public long received() {
        return received.get();
    }

    private void acceptUntilClosed() {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            connections.incrementAndGet();
            open.add(socket);
            Thread connection = new Thread(() -> serve(socket), "data-host-connection");
            connection.setDaemon(true);
            connection.start();
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[64 * 1024];
            for (int read; (read = in.read(buffer)) >= 0; ) {
                received.addAndGet(read);
                if (echo) {
                    out.write(buffer, 0, read);
                }
            }
        } catch (IOException e) {
            // The tunnel was cut: what came is counted.
        } finally {
            open.remove(socket);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : open) {
            socket.close();
        }
    }
}
