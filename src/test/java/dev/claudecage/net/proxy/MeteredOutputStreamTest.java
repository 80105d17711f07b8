package dev.claudecage.net.proxy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What a connection's audit line counts: the bytes that left, which a cut-off can make fewer than those granted. */
class MeteredOutputStreamTest {

    /** Takes {@code accepted} bytes, a few at a time, then fails as a socket closed by a cut-off does. */
    private static final class ClosingChannel implements WritableByteChannel {
        private int accepted;

        ClosingChannel(int accepted) {
            this.accepted = accepted;
        }

        @Override
        public int write(ByteBuffer source) throws IOException {
            if (accepted == 0) {
                throw new AsynchronousCloseException();
            }
            int taken = Math.min(Math.min(accepted, 1000), source.remaining());
            source.position(source.position() + taken);
            accepted -= taken;
            return taken;
        }

        @Override
        public boolean isOpen() {
            return accepted > 0;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aWriteEndedHalfwayCountsWhatLeftAndAWholeOneAllOfIt() throws Exception {
        TrafficLimits limits = new TrafficLimits(1 << 20, 8);
        try (SocketChannel client = SocketChannel.open()) {
            Connection connection = new Connection(client, Duration.ofSeconds(10), Duration.ofSeconds(300));
            MeteredOutputStream whole = connection.towardClient(new ClosingChannel(10_000), limits);
            whole.write(new byte[4_000]);
            assertEquals(4_000, connection.bytesReceived());

            MeteredOutputStream cut = connection.towardClient(new ClosingChannel(2_500), limits);
            ByteBuffer chunk = ByteBuffer.allocate(8_000);
            assertThrows(AsynchronousCloseException.class, () -> cut.write(chunk));
            assertEquals(4_000 + 2_500, connection.bytesReceived(), "the line counts the 2,500 bytes that left");
            assertEquals(2_500, chunk.position(), "the buffer says what left too");
            assertEquals(4_000 + 8_000, limits.bytesUsed(), "the budget was charged for the whole grant");
        }
    }
}
