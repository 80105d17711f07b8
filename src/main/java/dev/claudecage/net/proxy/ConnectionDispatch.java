package dev.claudecage.net.proxy;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * How the proxy and the API gateway take a new connection of the cage: admitted under the cage's
 * {@link TrafficLimits}, it is served at once on a worker thread of its own, or else refused at once;
 * nothing waits in a queue. It holds the server's own connections among the cage's: the ones its
 * watchdog times and its close ends.
 */
public final class ConnectionDispatch {

    /** Says no to a connection past a limit: an HTTP status, and the reason for the audit line and the client. */
    @FunctionalInterface
    public interface Refusal {
        void refuse(int status, String reason);
    }

    private static final Duration ACCEPT_RETRY = Duration.ofMillis(100);

    private final String server;
    private final TrafficLimits limits;
    private final Executor workers;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();

    /** @param server the server as refusals name it, e.g. "the proxy" */
    public ConnectionDispatch(String server, TrafficLimits limits, Executor workers) {
        this.server = server;
        this.limits = limits;
        this.workers = workers;
    }

    /**
     * Hands each connection {@code server} accepts to {@code dispatch}, until {@code closed} says so or the server
     * is closed. A failed accept (out of file descriptors, most likely) is tried again after a pause, not in a spin.
     */
    public static void acceptUntilClosed(ServerSocketChannel server, BooleanSupplier closed,
                                         Consumer<SocketChannel> dispatch) {
        while (!closed.getAsBoolean()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed.getAsBoolean() || !server.isOpen()) {
                    return;
                }
                try {
                    Thread.sleep(ACCEPT_RETRY.toMillis());
                } catch (InterruptedException interrupted) {
                    return;
                }
                continue;
            }
            dispatch.accept(client);
        }
    }

    /**
     * Runs {@code serve} for the connection on a worker, or else refuses the connection; {@code serve} ends
     * with {@link #release}.
     */
    public void dispatch(Connection connection, Runnable serve, Refusal refusal) {
        switch (limits.admit(connection)) {
            case ADMITTED -> {
                open.add(connection);
                try {
                    workers.execute(serve);
                } catch (RejectedExecutionException e) {
                    release(connection);
                    refusal.refuse(429, server + " has no thread free for another connection");
                }
            }
            case CONNECTION_LIMIT -> refusal.refuse(429,
                    "the connection limit of " + limits.maxConnections() + " open connections is reached");
            case EGRESS_LIMIT -> refusal.refuse(403,
                    "the egress limit of " + limits.egressLimitText() + " was passed; this cage is cut off");
        }
    }

    /** Frees the connection's place among the cage's and this server's connections. */
    public void release(Connection connection) {
        open.remove(connection);
        limits.release(connection);
    }

    /** For the watchdog: ends this server's connections that waited too long (see {@link Connection#endOverdue}). */
    public void endOverdue() {
        Connection.endOverdue(open, System.nanoTime());
    }

    /** Ends every connection of this server, for its close. */
    public void endAll(Connection.Ending ending) {
        open.forEach(connection -> connection.end(ending));
    }
}
