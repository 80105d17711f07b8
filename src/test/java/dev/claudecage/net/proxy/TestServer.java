package dev.claudecage.net.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP server on 127.0.0.1 that a test starts for itself: an upstream for the proxy, or a
 * canary that only records that someone reached it. Every accepted socket is closed with it.
 */
final class TestServer implements AutoCloseable {

    /** What the server does with one connection; the socket is closed afterwards. */
    @FunctionalInterface
    interface Handler {
        void handle(Socket socket) throws Exception;
    }

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_CONNECTIONS = 1000;

    private final ServerSocket server;
    private final Handler handler;
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "test-server");
        thread.setDaemon(true);
        return thread;
    });
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();

    private TestServer(ServerSocket server, Handler handler) {
        this.server = server;
        this.handler = handler;
    }

    static TestServer start(Handler handler) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        TestServer test = new TestServer(server, handler);
        test.threads.execute(test::acceptLoop);
        return test;
    }

    /** Records the connection and reads until the client closes: it only proves it was reached. */
    static TestServer canary() throws IOException {
        return start(socket -> socket.getInputStream().transferTo(OutputStream.nullOutputStream()));
    }

    /** Sends back every byte it gets, and half-closes when the client does. */
    static TestServer echo() throws IOException {
        return start(socket -> {
            socket.getInputStream().transferTo(socket.getOutputStream());
            socket.shutdownOutput();
        });
    }

    int port() {
        return server.getLocalPort();
    }

    /** How many connections reached this server. */
    int connections() {
        return accepted.get();
    }

    /** Waits, bounded, until this many connections arrived; how many did. */
    int awaitConnections(int expected) throws InterruptedException {
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (accepted.get() < expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return accepted.get();
    }

    private void acceptLoop() {
        // Bounded: no test makes more connections than this, and close() ends the loop early.
        for (int i = 0; i < MAX_CONNECTIONS; i++) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            open.add(socket);
            threads.execute(() -> {
                try {
                    socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
                    handler.handle(socket);
                } catch (Exception e) {
                    // The test's assertions on the client side say what went wrong.
                } finally {
                    closeQuietly(socket);
                    open.remove(socket);
                }
            });
        }
    }

    /** Reads exactly n bytes, or fails. */
    static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length != n) {
            throw new IOException("expected " + n + " bytes, got " + bytes.length);
        }
        return bytes;
    }

    @Override
    public void close() {
        closeQuietly(server);
        open.forEach(TestServer::closeQuietly);
        threads.shutdownNow();
        try {
            if (!threads.awaitTermination(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test server threads did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the test server", e);
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // The test is over with it.
        }
    }
}
