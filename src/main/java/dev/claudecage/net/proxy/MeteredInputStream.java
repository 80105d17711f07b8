package dev.claudecage.net.proxy;

import dev.claudecage.net.http.WatchedInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cage's bytes as a server reads them to send them on in a form of its own (the API gateway's
 * request bodies, which its HTTP client frames anew): each read is charged to the cage's egress
 * budget before it is handed on, and a read that would pass the budget hands on nothing, cuts the
 * cage off and throws. Counts for the connection's audit line and keeps it from going idle.
 */
final class MeteredInputStream extends WatchedInputStream {

    private final TrafficLimits limits;
    private final Connection connection;
    private final AtomicLong counter;

    MeteredInputStream(InputStream in, TrafficLimits limits, Connection connection, AtomicLong counter) {
        super(in);
        this.limits = limits;
        this.connection = connection;
        this.counter = counter;
    }

    @Override
    protected void passed(byte[] bytes, int offset, int count) throws IOException {
        int granted = limits.grant(count);
        counter.addAndGet(granted);
        connection.touch();
        if (granted < count) {
            throw MeteredOutputStream.limitPassed(limits);
        }
    }
}
