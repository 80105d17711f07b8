package dev.claudecage.net;

import dev.claudecage.DaemonThreads;

import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The threads of one of the cage's small servers: one accepts connections, a pool of at most
 * {@code maxConnections} serves them; a connection beyond that goes to {@code onRejected} and is
 * closed. Closing stops both and closes the listening socket.
 *
 * @param <C> a connection (a socket or a socket channel)
 */
public final class AcceptLoop<C extends Closeable> implements AutoCloseable {

    /** Waits for the next connection; throws once the listening socket is closed. */
    public interface Acceptor<C> {
        C accept() throws IOException;
    }

    private final Closeable server;
    private final ThreadPoolExecutor handlers;
    private final Thread acceptor;

    private AcceptLoop(String name, Closeable server, Acceptor<C> accept, int maxConnections, Consumer<C> serve,
                       Consumer<C> onRejected) {
        this.server = server;
        this.handlers = new ThreadPoolExecutor(0, maxConnections, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                DaemonThreads.numbered(name));
        this.acceptor = DaemonThreads.unstarted(name + "-accept", () -> acceptUntilClosed(accept, serve, onRejected));
    }

    /** Starts accepting on {@code server}, which is already listening. */
    public static <C extends Closeable> AcceptLoop<C> start(String name, Closeable server, Acceptor<C> accept,
                                                            int maxConnections, Consumer<C> serve,
                                                            Consumer<C> onRejected) {
        AcceptLoop<C> loop = new AcceptLoop<>(name, server, accept, maxConnections, serve, onRejected);
        loop.acceptor.start();
        return loop;
    }

    private void acceptUntilClosed(Acceptor<C> accept, Consumer<C> serve, Consumer<C> onRejected) {
        while (true) {
            C connection;
            try {
                connection = accept.accept();
            } catch (IOException e) {
                return;
            }
            try {
                handlers.execute(() -> serve.accept(connection));
            } catch (RejectedExecutionException e) {
                onRejected.accept(connection);
                try {
                    connection.close();
                } catch (IOException ignored) {
                    // Refused either way.
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // Closing is all that is left to do with it.
        }
        handlers.shutdownNow();
        try {
            acceptor.join(5000);
            handlers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
