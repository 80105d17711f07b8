package dev.claudecage.net;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Keeps a flood of one source's events from flooding the audit log (and the host's disk). Events pass
 * one by one while a token bucket has tokens; past it, they are counted per decision, with their bytes,
 * and the counts are written as summary events at most once a second (when an event comes a second or
 * more after the last summary) and when the log closes. Every event is still accounted for; only the detail of a flood is lost.
 * Thread-safe.
 */
final class AuditThrottle {

    /** What a summary stands for: how many events, and the bytes they carried. */
    private static final class Tally {
        long events;
        long bytesSent;
        long bytesReceived;
        boolean hasBytes;

        void add(AuditEvent event) {
            events++;
            if (event.bytesSent() != null || event.bytesReceived() != null) {
                hasBytes = true;
                bytesSent += event.bytesSent() == null ? 0 : event.bytesSent();
                bytesReceived += event.bytesReceived() == null ? 0 : event.bytesReceived();
            }
        }
    }

    private final Consumer<AuditEvent> sink;
    private final String source;
    private final double burst;
    private final double perNano;
    private final LongSupplier nanoClock;
    private final Map<String, Tally> suppressed = new TreeMap<>();
    private double tokens;
    private long lastRefill;
    private long lastSummary;

    AuditThrottle(Consumer<AuditEvent> sink, String source, int burst, int perSecond, LongSupplier nanoClock) {
        if (burst < 1 || perSecond < 1) {
            throw new IllegalArgumentException("an audit throttle needs a burst and a rate of at least 1");
        }
        this.sink = sink;
        this.source = source;
        this.burst = burst;
        this.perNano = perSecond / (double) TimeUnit.SECONDS.toNanos(1);
        this.nanoClock = nanoClock;
        this.tokens = burst;
        this.lastRefill = nanoClock.getAsLong();
        this.lastSummary = lastRefill;
    }

    synchronized void record(AuditEvent event) {
        long now = nanoClock.getAsLong();
        tokens = Math.min(burst, tokens + (now - lastRefill) * perNano);
        lastRefill = now;
        if (!suppressed.isEmpty() && now - lastSummary >= TimeUnit.SECONDS.toNanos(1)) {
            summarize(now);
        }
        if (tokens >= 1) {
            tokens -= 1;
            sink.accept(event);
        } else {
            suppressed.computeIfAbsent(event.decision(), decision -> new Tally()).add(event);
        }
    }

    /** Writes what is still counted; for closing. */
    synchronized void flush() {
        if (!suppressed.isEmpty()) {
            summarize(nanoClock.getAsLong());
        }
    }

    private void summarize(long now) {
        suppressed.forEach((decision, tally) -> sink.accept(new AuditEvent(Instant.now(), source, null, null, decision,
                tally.events + " more events with this decision, not logged one by one (audit rate limit)",
                tally.hasBytes ? tally.bytesSent : null, tally.hasBytes ? tally.bytesReceived : null)));
        suppressed.clear();
        lastSummary = now;
    }
}
