package dev.claudecage.net.proxy;

import dev.claudecage.net.http.ByteReads;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cage's bytes as a server reads them to send them on in a form of its own (the API gateway's
 * request bodies, which its HTTP client frames anew): each read is charged to the cage's egress
 * budget before it is handed on, and a read that would pass the budget hands on nothing, cuts the
 * cage off and throws. Counts for the connection's audit line and keeps it from going idle.
 */
final class MeteredInputStream extends FilterInputStream {

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
    public int read() throws IOException {
        return ByteReads.readOne(this);
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int read = in.read(buffer, offset, length);
        if (read <= 0) {
            return read;
        }
        int granted = limits.grant(read);
        counter.addAndGet(granted);
        connection.touch();
        if (granted < read) {
            throw MeteredOutputStream.limitPassed(limits);
        }
        return read;
    }
}
