package dev.claudecage.net.proxy;

import org.junit.jupiter.api.Test;

import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrafficLimitsTest {

    private static final Duration HANDSHAKE = Duration.ofSeconds(10);
    private static final Duration IDLE = Duration.ofSeconds(300);

    @Test
    void grantsAddUpToTheLimitExactlyUnderContention() throws Exception {
        long limit = 123_457;
        TrafficLimits limits = new TrafficLimits(limit, 8);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<Long>> granted = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                granted.add(threads.submit(() -> {
                    long sum = 0;
                    for (int i = 0; i < 1000; i++) {
                        sum += limits.grant(100);
                    }
                    return sum;
                }));
            }
            long total = 0;
            for (Future<Long> future : granted) {
                total += future.get(10, TimeUnit.SECONDS);
            }
            assertEquals(limit, total);
            assertEquals(limit, limits.bytesUsed());
            assertEquals(0, limits.grant(1));
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void cuttingOffEndsEveryOpenConnectionAndAdmitsNoMore() throws Exception {
        TrafficLimits limits = new TrafficLimits(1000, 8);
        try (SocketChannel a = SocketChannel.open(); SocketChannel b = SocketChannel.open();
             SocketChannel late = SocketChannel.open()) {
            Connection first = new Connection(a, HANDSHAKE, IDLE);
            Connection second = new Connection(b, HANDSHAKE, IDLE);
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(first));
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(second));

            limits.cutOff();

            assertEquals(Connection.Ending.CUT_OFF, first.ending());
            assertEquals(Connection.Ending.CUT_OFF, second.ending());
            assertTrue(!a.isOpen() && !b.isOpen());
            assertEquals(TrafficLimits.Admission.EGRESS_LIMIT, limits.admit(new Connection(late, HANDSHAKE, IDLE)));
        }
    }

    @Test
    void theCapCountsOpenConnectionsAndFreesASlotOnRelease() throws Exception {
        TrafficLimits limits = new TrafficLimits(1000, 1);
        try (SocketChannel a = SocketChannel.open(); SocketChannel b = SocketChannel.open()) {
            Connection first = new Connection(a, HANDSHAKE, IDLE);
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(first));
            assertEquals(TrafficLimits.Admission.CONNECTION_LIMIT, limits.admit(new Connection(b, HANDSHAKE, IDLE)));
            limits.release(first);
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(new Connection(b, HANDSHAKE, IDLE)));
        }
    }

    @Test
    void aConnectionEndsForTheFirstReasonGiven() throws Exception {
        try (SocketChannel socket = SocketChannel.open()) {
            Connection connection = new Connection(socket, HANDSHAKE, IDLE);
            connection.end(Connection.Ending.IDLE);
            connection.end(Connection.Ending.COMPLETED);
            assertEquals(Connection.Ending.IDLE, connection.ending());
        }
    }

    @Test
    void theWatchdogEndsSlowRequestsAndIdleRelaysOnlyEachByItsOwnTimeouts() throws Exception {
        long second = 1_000_000_000L;
        try (SocketChannel a = SocketChannel.open(); SocketChannel b = SocketChannel.open();
             SocketChannel c = SocketChannel.open(); SocketChannel d = SocketChannel.open()) {
            Connection asking = new Connection(a, HANDSHAKE, IDLE);
            Connection connecting = new Connection(b, HANDSHAKE, Duration.ofSeconds(10));
            connecting.awaitUpstream();
            Connection relaying = new Connection(c, HANDSHAKE, IDLE);
            relaying.startRelaying();
            Connection relayingBriefly = new Connection(d, HANDSHAKE, Duration.ofSeconds(10));
            relayingBriefly.startRelaying();
            long later = System.nanoTime() + 100 * second;

            assertEquals(Connection.Ending.HANDSHAKE_TIMEOUT, asking.overdue(later));
            assertEquals(null, connecting.overdue(later));
            assertEquals(null, relaying.overdue(later));
            assertEquals(Connection.Ending.IDLE, relayingBriefly.overdue(later));

            Connection.endOverdue(List.of(asking, connecting, relaying, relayingBriefly), later);

            assertFalse(a.isOpen() || d.isOpen());
            assertTrue(b.isOpen() && c.isOpen());
        }
    }
}
