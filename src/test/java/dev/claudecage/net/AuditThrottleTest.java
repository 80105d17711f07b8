package dev.claudecage.net;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuditThrottleTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final List<AuditEvent> written = new ArrayList<>();
    private final AuditThrottle throttle = new AuditThrottle(written::add, "dns", 3, 1, now::get);

    private static AuditEvent query(String name, String decision) {
        return new AuditEvent(java.time.Instant.EPOCH, "dns", name, null, decision, "A", null, null);
    }

    @Test
    void passesABurstThenCountsAndSummarizesTheRest() {
        for (int i = 0; i < 10; i++) {
            throttle.record(query("q" + i, i % 2 == 0 ? AuditEvent.DENIED : AuditEvent.ALLOWED));
        }
        assertEquals(List.of("q0", "q1", "q2"), written.stream().map(AuditEvent::destination).toList());

        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        throttle.record(query("q10", AuditEvent.DENIED));

        assertEquals(6, written.size());
        // Suppressed: q3, q5, q7, q9 allowed; q4, q6, q8 denied.
        assertEquals("4 more events with this decision, not logged one by one (audit rate limit)", written.get(3).reason());
        assertEquals(AuditEvent.ALLOWED, written.get(3).decision());
        assertEquals("3 more events with this decision, not logged one by one (audit rate limit)", written.get(4).reason());
        assertEquals(AuditEvent.DENIED, written.get(4).decision());
        assertEquals("q10", written.get(5).destination());
    }

    @Test
    void flushWritesWhatIsStillCounted() {
        for (int i = 0; i < 5; i++) {
            throttle.record(query("q" + i, AuditEvent.DENIED));
        }
        throttle.flush();
        throttle.flush();

        assertEquals(4, written.size());
        assertEquals("2 more events with this decision, not logged one by one (audit rate limit)", written.get(3).reason());
    }

    @Test
    void accountsForEveryQueryOfAFlood() {
        int queries = 10_000;
        for (int i = 0; i < queries; i++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
            throttle.record(query("q", AuditEvent.DENIED));
        }
        throttle.flush();

        long accounted = written.stream().mapToLong(event -> event.destination() != null ? 1
                : Long.parseLong(event.reason().substring(0, event.reason().indexOf(' ')))).sum();
        assertEquals(queries, accounted);
        // 10 s of flood at 1 line a second (plus the burst and a summary a second): far fewer lines than queries.
        assertTrue(written.size() < 30, "lines written: " + written.size());
    }
}
