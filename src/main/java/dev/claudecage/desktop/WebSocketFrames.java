package dev.claudecage.desktop;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The server's side of RFC 6455 framing, as the desktop's WebSocket needs it: the browser's
 * frames, masked, carry the VNC stream as binary messages (streamed through, whatever their
 * size), pings and a close; the server sends binary frames, pongs and a close, unmasked. No
 * extension is negotiated, so none is accepted; text messages are not VNC and end the connection.
 */
final class WebSocketFrames {

    static final int CONTINUATION = 0x0;
    static final int TEXT = 0x1;
    static final int BINARY = 0x2;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    static final int NORMAL_CLOSURE = 1000;
    static final int GOING_AWAY = 1001;
    static final int PROTOCOL_ERROR = 1002;
    static final int UNSUPPORTED_DATA = 1003;

    /** The most a control frame carries (RFC 6455, 5.5). */
    private static final int MAX_CONTROL_PAYLOAD = 125;
    private static final int CHUNK = 64 * 1024;

    private WebSocketFrames() {
    }

    /** What the browser's frames deliver. */
    interface Receiver {
        /** Part of a binary message, unmasked; the buffer is reused after the call. */
        void data(ByteBuffer payload) throws IOException;

        /** A ping, to be answered with a pong carrying the same payload. */
        void ping(byte[] payload) throws IOException;
    }

    /** The browser broke the protocol; the connection ends with {@link #code}. */
    static final class Violation extends IOException {
        private static final long serialVersionUID = 1L;
        final int code;

        Violation(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    /**
     * Reads the browser's frames and hands them to {@code receiver} until a close frame, and
     * returns then. EOFException when the connection ends without one, {@link Violation} for a
     * frame this server does not accept.
     */
    static void readUntilClose(InputStream stream, Receiver receiver) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        byte[] chunk = new byte[CHUNK];
        boolean inMessage = false;
        while (true) {
            int first = in.read();
            if (first < 0) {
                throw new EOFException("the browser closed the connection without a close frame");
            }
            int second = in.readUnsignedByte();
            boolean fin = (first & 0x80) != 0;
            int opcode = first & 0x0f;
            if ((first & 0x70) != 0) {
                throw new Violation(PROTOCOL_ERROR, "reserved bits set, and no extension was agreed");
            }
            if ((second & 0x80) == 0) {
                throw new Violation(PROTOCOL_ERROR, "a frame from the browser without a mask");
            }
            long length = second & 0x7f;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
                if (length < 0) {
                    throw new Violation(PROTOCOL_ERROR, "a frame length beyond 2^63");
                }
            }
            byte[] mask = new byte[4];
            in.readFully(mask);
            switch (opcode) {
                case BINARY, CONTINUATION -> {
                    if ((opcode == CONTINUATION) != inMessage) {
                        throw new Violation(PROTOCOL_ERROR, opcode == CONTINUATION
                                ? "a continuation frame outside a message" : "a new message inside another");
                    }
                    inMessage = !fin;
                    long done = 0;
                    while (done < length) {
                        int count = (int) Math.min(chunk.length, length - done);
                        in.readFully(chunk, 0, count);
                        for (int i = 0; i < count; i++) {
                            chunk[i] ^= mask[(int) ((done + i) & 3)];
                        }
                        receiver.data(ByteBuffer.wrap(chunk, 0, count));
                        done += count;
                    }
                }
                case TEXT -> throw new Violation(UNSUPPORTED_DATA, "a text message, and VNC is binary");
                case CLOSE, PING, PONG -> {
                    if (!fin || length > MAX_CONTROL_PAYLOAD) {
                        throw new Violation(PROTOCOL_ERROR, "a fragmented or oversized control frame");
                    }
                    byte[] payload = new byte[(int) length];
                    in.readFully(payload);
                    for (int i = 0; i < payload.length; i++) {
                        payload[i] ^= mask[i & 3];
                    }
                    if (opcode == CLOSE) {
                        return;
                    }
                    if (opcode == PING) {
                        receiver.ping(payload);
                    }
                }
                default -> throw new Violation(PROTOCOL_ERROR, "unknown opcode " + opcode);
            }
        }
    }

    /** The head of one whole, unmasked frame from the server carrying {@code length} bytes. */
    static byte[] header(int opcode, int length) {
        byte first = (byte) (0x80 | opcode);
        if (length < 126) {
            return new byte[] {first, (byte) length};
        }
        if (length <= 0xffff) {
            return new byte[] {first, 126, (byte) (length >>> 8), (byte) length};
        }
        ByteBuffer header = ByteBuffer.allocate(10).put(first).put((byte) 127).putLong(length);
        return header.array();
    }

    /** A close frame's payload: the status code, no reason. */
    static byte[] closePayload(int code) {
        return new byte[] {(byte) (code >>> 8), (byte) code};
    }
}
