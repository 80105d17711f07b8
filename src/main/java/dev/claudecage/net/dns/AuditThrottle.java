package dev.claudecage.net.dns;

import dev.claudecage.net.AuditEvent;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Keeps a flood of queries from flooding the audit log (and the host's disk: threat 5). Events pass
 * one by one while a token bucket has tokens; past it, they are counted per decision, and the counts
 * are written as summary events at most once a second and when the stub closes. Every query is
 * still accounted for; only the detail of a flood is lost. Thread-safe.
 */
final class AuditThrottle {

    private final Consumer<AuditEvent> sink;
    private final String source;
    private final double burst;
    private final double perNano;
    private final LongSupplier nanoClock;
    private final Map<String, Long> suppressed = new TreeMap<>();
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
        if (!suppressed.isEmpty() && (tokens >= 1 || now - lastSummary >= TimeUnit.SECONDS.toNanos(1))) {
            summarize(now);
        }
        if (tokens >= 1) {
            tokens -= 1;
            sink.accept(event);
        } else {
            suppressed.merge(event.decision(), 1L, Long::sum);
        }
    }

    /** Writes what is still counted; for closing. */
    synchronized void flush() {
        if (!suppressed.isEmpty()) {
            summarize(nanoClock.getAsLong());
        }
    }

    private void summarize(long now) {
        suppressed.forEach((decision, count) -> sink.accept(new AuditEvent(Instant.now(), source, null, null, decision,
                count + " more queries with this decision, not logged one by one (audit rate limit)", null, null)));
        suppressed.clear();
        lastSummary = now;
    }
}
