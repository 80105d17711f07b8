package dev.claudecage.net.proxy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every byte the proxy relays, in either direction, goes through one of these: it is charged to
 * the cage's egress budget before it is written, so the budget is never passed, not even by part
 * of one buffer; and it counts for the connection's audit line and keeps it from going idle.
 * Heads and framed bodies arrive as byte arrays, streamed bulk as buffers; both take one path.
 */
public final class MeteredOutputStream extends OutputStream {

    /** The write (or read) that would have passed the egress limit; the cage is cut off by the time it is thrown. */
    public static final class EgressLimitPassed extends IOException {
        private static final long serialVersionUID = 1L;

        EgressLimitPassed(String message) {
            super(message);
        }
    }

    private final WritableByteChannel out;
    private final TrafficLimits limits;
    private final Connection connection;
    private final AtomicLong counter;

    MeteredOutputStream(WritableByteChannel out, TrafficLimits limits, Connection connection, AtomicLong counter) {
        this.out = out;
        this.limits = limits;
        this.connection = connection;
        this.counter = counter;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        write(ByteBuffer.wrap(bytes, offset, length));
    }

    /** Writes all that remains in the buffer, or as much as the budget allows and then throws. */
    void write(ByteBuffer bytes) throws IOException {
        int wanted = bytes.remaining();
        int granted = limits.grant(wanted);
        if (granted > 0) {
            ByteBuffer allowed = bytes.duplicate();
            allowed.limit(bytes.position() + granted);
            try {
                while (allowed.hasRemaining()) {
                    // Counted as the channel takes them: when a cut-off elsewhere closes this connection's
                    // sockets in the middle of a grant, the line says what left, not what was granted.
                    counter.addAndGet(out.write(allowed));
                }
            } finally {
                bytes.position(allowed.position());
            }
            connection.touch();
        }
        if (granted < wanted) {
            // Cut off only after writing what fit: cutting off closes this connection's sockets too.
            throw limitPassed(limits);
        }
    }

    /** Cuts the cage off and says why. */
    static EgressLimitPassed limitPassed(TrafficLimits limits) {
        limits.cutOff();
        return new EgressLimitPassed("the egress limit of " + limits.egressLimitText() + " was passed");
    }
}
