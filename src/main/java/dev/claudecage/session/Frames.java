package dev.claudecage.session;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The supervisor's socket protocol: frames of a type byte, a 4-byte big-endian length and the
 * payload. A client opens with {@link #HELLO_ATTACH} (its window size) or {@link #HELLO_STOP}
 * (a grace period); an attached client then sends {@link #DATA} (keystrokes) and {@link #RESIZE},
 * and receives {@link #DATA} (terminal output) until {@link #EXIT} (how the cage ended).
 * Reads and writes go straight to the channel: one thread may read while another writes.
 */
final class Frames {

    static final byte HELLO_ATTACH = 'A';
    static final byte HELLO_STOP = 'S';
    static final byte DATA = 'D';
    static final byte RESIZE = 'W';
    /** The cage has ended: a 4-byte exit code (or -1), then the session's state in words. */
    static final byte EXIT = 'X';
    /** A stop was accepted and is under way. */
    static final byte STOPPING = 'K';
    static final byte ERROR = 'E';

    static final int MAX_PAYLOAD = 1 << 20;

    record Frame(byte type, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int intAt(int offset) {
            return ByteBuffer.wrap(payload, offset, 4).getInt();
        }

        int shortAt(int offset) {
            return Short.toUnsignedInt(ByteBuffer.wrap(payload, offset, 2).getShort());
        }
    }

    private final SocketChannel channel;
    private final Object writeLock = new Object();

    Frames(SocketChannel channel) {
        this.channel = channel;
    }

    SocketChannel channel() {
        return channel;
    }

    /** The next frame, or null at the end of the stream. */
    Frame read() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(5);
        if (!readFully(header, true)) {
            return null;
        }
        header.flip();
        byte type = header.get();
        int length = header.getInt();
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new IOException("bad frame length " + length);
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        if (!readFully(payload, false)) {
            throw new EOFException("the stream ended inside a frame");
        }
        return new Frame(type, payload.array());
    }

    void write(byte type, byte[] payload) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(5 + payload.length);
        frame.put(type).putInt(payload.length).put(payload).flip();
        synchronized (writeLock) {
            while (frame.hasRemaining()) {
                channel.write(frame);
            }
        }
    }

    void writeText(byte type, String text) throws IOException {
        write(type, text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] size(int rows, int columns) {
        return ByteBuffer.allocate(4).putShort((short) rows).putShort((short) columns).array();
    }

    static byte[] exit(int code, String state) {
        byte[] text = state.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + text.length).putInt(code).put(text).array();
    }

    static byte[] seconds(int seconds) {
        return ByteBuffer.allocate(4).putInt(seconds).array();
    }

    private boolean readFully(ByteBuffer buffer, boolean endAllowed) throws IOException {
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer);
            if (read < 0) {
                if (endAllowed && buffer.position() == 0) {
                    return false;
                }
                throw new EOFException("the stream ended inside a frame");
            }
        }
        return true;
    }
}
