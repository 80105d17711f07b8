package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.config.Durations;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.workspace.Checkpoints;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * A {@code --clone} session's supervisor checkpointing the copy every {@code checkpoint_interval}
 * while the cage runs, when the copy changed since the last checkpoint ({@link Checkpoints}). A
 * checkpoint that fails (the agent swapped a name while it was read) is logged, and the next
 * interval tries again.
 */
final class CheckpointTimer implements AutoCloseable {

    private final Checkpoints checkpoints;
    private final Duration interval;
    private final Consumer<String> log;
    private final Thread thread;
    private boolean closed;

    private CheckpointTimer(Checkpoints checkpoints, Duration interval, Consumer<String> log) {
        this.checkpoints = checkpoints;
        this.interval = interval;
        this.log = log;
        this.thread = DaemonThreads.unstarted("checkpoints", this::loop);
    }

    static CheckpointTimer start(Checkpoints checkpoints, Duration interval, Consumer<String> log) {
        CheckpointTimer timer = new CheckpointTimer(checkpoints, interval, log);
        timer.thread.start();
        return timer;
    }

    private void loop() {
        String message = "every " + Durations.format(interval);
        while (true) {
            synchronized (this) {
                long end = System.nanoTime() + interval.toNanos();
                try {
                    for (long left = interval.toMillis(); !closed && left > 0; left = (end - System.nanoTime()) / 1_000_000) {
                        wait(left);
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (closed) {
                    return;
                }
            }
            try {
                checkpoints.take(message, true).checkpoint().ifPresent(checkpoint -> log.accept("checkpoint "
                        + checkpoint.id() + ": " + checkpoint.filesChanged() + " path(s) changed"));
            } catch (CageException e) {
                log.accept("checkpoint failed, trying again in " + Durations.format(interval) + ": "
                        + UntrustedText.escape(e.getMessage()));
            }
        }
    }

    /** Stops after the checkpoint being taken, if one is, so that none is cut off halfway. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join(Duration.ofMinutes(2).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
