package dev.claudecage.net.proxy;

import org.junit.jupiter.api.Test;

import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrafficLimitsTest {

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
            Connection first = new Connection(a);
            Connection second = new Connection(b);
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(first));
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(second));

            limits.cutOff();

            assertEquals(Connection.Ending.CUT_OFF, first.ending());
            assertEquals(Connection.Ending.CUT_OFF, second.ending());
            assertTrue(!a.isOpen() && !b.isOpen());
            assertEquals(TrafficLimits.Admission.EGRESS_LIMIT, limits.admit(new Connection(late)));
        }
    }

    @Test
    void theCapCountsOpenConnectionsAndFreesASlotOnRelease() throws Exception {
        TrafficLimits limits = new TrafficLimits(1000, 1);
        try (SocketChannel a = SocketChannel.open(); SocketChannel b = SocketChannel.open()) {
            Connection first = new Connection(a);
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(first));
            assertEquals(TrafficLimits.Admission.CONNECTION_LIMIT, limits.admit(new Connection(b)));
            limits.release(first);
            assertEquals(TrafficLimits.Admission.ADMITTED, limits.admit(new Connection(b)));
        }
    }

    @Test
    void aConnectionEndsForTheFirstReasonGiven() throws Exception {
        try (SocketChannel socket = SocketChannel.open()) {
            Connection connection = new Connection(socket);
            connection.end(Connection.Ending.IDLE);
            connection.end(Connection.Ending.COMPLETED);
            assertEquals(Connection.Ending.IDLE, connection.ending());
        }
    }

    @Test
    void theWatchdogEndsSlowRequestsAndIdleRelaysOnly() throws Exception {
        long second = 1_000_000_000L;
        try (SocketChannel a = SocketChannel.open(); SocketChannel b = SocketChannel.open();
             SocketChannel c = SocketChannel.open()) {
            Connection asking = new Connection(a);
            Connection connecting = new Connection(b);
            connecting.requestRead();
            Connection relaying = new Connection(c);
            relaying.startRelaying();
            long later = System.nanoTime() + 100 * second;

            assertEquals(Connection.Ending.HANDSHAKE_TIMEOUT, asking.overdue(later, 10 * second, 300 * second));
            assertEquals(null, connecting.overdue(later, 10 * second, 10 * second));
            assertEquals(null, relaying.overdue(later, 10 * second, 300 * second));
            assertEquals(Connection.Ending.IDLE, relaying.overdue(later, 10 * second, 10 * second));
        }
    }
}
