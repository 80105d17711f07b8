package dev.claudecage.net.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;

/**
 * What the cage sends on one connection to the API gateway, buffered (request heads are read a byte at
 * a time), with a look that waits for nothing at whether the cage has closed its side: the gateway sends
 * no request whose client has left. The channel stays in blocking mode but for that look.
 */
final class CageInput extends InputStream {

    /**
     * Room for what follows a request head: a body up to this long is read ahead whole by a look, so
     * that the end of the stream behind it shows; a longer one is sent while its client sends the rest.
     */
    static final int BUFFER_BYTES = 64 * 1024;

    private final SocketChannel channel;
    /** Unread bytes between position and limit. */
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).flip();

    CageInput(SocketChannel channel) {
        this.channel = channel;
    }

    @Override
    public int read() throws IOException {
        if (!buffer.hasRemaining() && fill() < 0) {
            return -1;
        }
        return buffer.get() & 0xff;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (!buffer.hasRemaining() && fill() < 0) {
            return -1;
        }
        int count = Math.min(length, buffer.remaining());
        buffer.get(bytes, offset, count);
        return count;
    }

    @Override
    public int available() {
        return buffer.remaining();
    }

    private int fill() throws IOException {
        buffer.clear();
        int read;
        try {
            read = channel.read(buffer);
        } finally {
            buffer.flip();
        }
        return read;
    }

    /**
     * Whether the cage has closed its side (or reset the connection), as far as can be seen now: what it
     * has sent meanwhile is read into the buffer, to be read as usual, and an end of stream behind it means
     * nobody waits for an answer. False when the buffer fills first: the cage is still sending.
     */
    boolean closedWithoutWaiting() throws IOException {
        buffer.compact();
        try {
            channel.configureBlocking(false);
            while (buffer.hasRemaining()) {
                int read = channel.read(buffer);
                if (read < 0) {
                    return true;
                }
                if (read == 0) {
                    return false;
                }
            }
            return false;
        } catch (IOException reset) {
            return true;
        } finally {
            buffer.flip();
            try {
                channel.configureBlocking(true);
            } catch (ClosedChannelException endedMeanwhile) {
                // Another thread ended the connection (a cut-off, the gateway stopping): the next read says so.
            }
        }
    }
}
