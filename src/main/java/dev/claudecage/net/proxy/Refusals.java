package dev.claudecage.net.proxy;

import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Says no to the connections a cage opens past its limits, on a small pool of its own, so that a
 * cage at its cap cannot take threads from its open connections. An answer may read the request
 * briefly ({@link #READ_TIMEOUT}), so that its audit line names what was asked for; past what the
 * pool can take, a connection is closed at once. The proxy and the API gateway each have one.
 */
public final class Refusals implements AutoCloseable {

    /** How long a refusal waits for the request it answers. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    private static final int AT_ONCE = 2;
    private static final int QUEUED = 32;
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    /** Reads what the client asked, if it can, audits and answers it. */
    @FunctionalInterface
    public interface Answer {
        void answer(SocketChannel client) throws IOException;
    }

    private final ThreadPoolExecutor pool;
    private final Set<SocketChannel> refusing = ConcurrentHashMap.newKeySet();

    public Refusals(String name) {
        this.pool = new ThreadPoolExecutor(AT_ONCE, AT_ONCE, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED),
                DaemonThreads.numbered(name));
        this.pool.allowCoreThreadTimeOut(true);
    }

    /**
     * Answers the client on the pool, then closes it; when the pool is full, closes it at once and
     * runs {@code whenFull} (which audits the refusal without a request to name).
     */
    public void refuse(SocketChannel client, Answer answer, Runnable whenFull) {
        refusing.add(client);
        try {
            pool.execute(() -> {
                try {
                    client.socket().setSoTimeout((int) READ_TIMEOUT.toMillis());
                    answer.answer(client);
                } catch (IOException e) {
                    // The client left before it could be told.
                } finally {
                    Teardown.closeQuietly(client);
                    refusing.remove(client);
                }
            });
        } catch (RejectedExecutionException e) {
            Teardown.closeQuietly(client);
            refusing.remove(client);
            whenFull.run();
        }
    }

    /** Closes the connections still being refused and waits for the pool's threads. */
    @Override
    public void close() {
        refusing.forEach(Teardown::closeQuietly);
        pool.shutdown();
        try {
            if (!pool.awaitTermination(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
