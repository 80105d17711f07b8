package dev.claudecage;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads claude-cage starts beside its main work: daemons, so that a service or a copy someone forgot
 * to stop never keeps the launcher alive, each named for what it does (a thread dump then says it).
 */
public final class DaemonThreads {

    private DaemonThreads() {
    }

    /** A daemon thread named {@code name} that runs {@code body}, not started yet. */
    public static Thread unstarted(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    /** A daemon thread named {@code name} running {@code body}, started. */
    public static Thread start(String name, Runnable body) {
        Thread thread = unstarted(name, body);
        thread.start();
        return thread;
    }

    /** For an executor of one thread: daemon threads named {@code name}. */
    public static ThreadFactory named(String name) {
        return body -> unstarted(name, body);
    }

    /** For a pool: daemon threads named {@code name}-1, {@code name}-2, ... in the order they are made. */
    public static ThreadFactory numbered(String name) {
        AtomicInteger count = new AtomicInteger();
        return body -> unstarted(name + "-" + count.incrementAndGet(), body);
    }

    /**
     * Waits for {@code thread} to end, interrupted or not: what it runs is bounded by timeouts of its own, and a
     * teardown after the wait must never race it. An interrupt that came meanwhile is kept for the caller.
     */
    public static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
