package dev.claudecage.desktop;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WebSocketFramesTest {

    private static final byte[] MASK = {0x37, (byte) 0xfa, 0x21, 0x3d};

    /** A frame as a browser sends it: masked. */
    private static byte[] frame(int first, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(first);
        if (payload.length < 126) {
            out.write(0x80 | payload.length);
        } else if (payload.length <= 0xffff) {
            out.write(0x80 | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length & 0xff);
        } else {
            out.write(0x80 | 127);
            out.writeBytes(ByteBuffer.allocate(8).putLong(payload.length).array());
        }
        out.writeBytes(MASK);
        for (int i = 0; i < payload.length; i++) {
            out.write(payload[i] ^ MASK[i & 3]);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static final class Recorder implements WebSocketFrames.Receiver {
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        final List<String> pings = new ArrayList<>();

        @Override
        public void data(ByteBuffer payload) {
            data.write(payload.array(), payload.arrayOffset() + payload.position(), payload.remaining());
        }

        @Override
        public void ping(byte[] payload) {
            pings.add(new String(payload, java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    @Test
    void binaryMessagesAreUnmaskedAndStreamedThroughWithPingsBetweenFragments() throws IOException {
        byte[] big = new byte[200_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i % 251);
        }
        Recorder recorder = new Recorder();
        WebSocketFrames.readUntilClose(new ByteArrayInputStream(concat(
                frame(0x82, "RFB 003.008\n".getBytes()),
                frame(0x02, new byte[] {1, 2}),
                frame(0x89, "hi".getBytes()),
                frame(0x80, new byte[] {3}),
                frame(0x82, big),
                frame(0x88, new byte[] {0x03, (byte) 0xe8}),
                frame(0x82, new byte[] {9}))), recorder);
        assertArrayEquals(concat("RFB 003.008\n".getBytes(), new byte[] {1, 2, 3}, big), recorder.data.toByteArray());
        assertEquals(List.of("hi"), recorder.pings);
    }

    @Test
    void framesThisServerDoesNotAcceptEndTheConnection() {
        byte[] unmasked = {(byte) 0x82, 0x01, 0x00};
        assertEquals(WebSocketFrames.PROTOCOL_ERROR, violation(unmasked));
        assertEquals(WebSocketFrames.UNSUPPORTED_DATA, violation(frame(0x81, "text".getBytes())));
        assertEquals(WebSocketFrames.PROTOCOL_ERROR, violation(frame(0xc2, new byte[] {1})), "a reserved bit");
        assertEquals(WebSocketFrames.PROTOCOL_ERROR, violation(frame(0x80, new byte[] {1})), "continuation of nothing");
        assertEquals(WebSocketFrames.PROTOCOL_ERROR, violation(concat(frame(0x02, new byte[] {1}),
                frame(0x82, new byte[] {2}))), "a message inside another");
        assertEquals(WebSocketFrames.PROTOCOL_ERROR, violation(frame(0x09, new byte[] {1})), "a fragmented ping");
        assertEquals(WebSocketFrames.PROTOCOL_ERROR, violation(frame(0x89, new byte[126])), "a ping over 125 bytes");
        assertEquals(WebSocketFrames.PROTOCOL_ERROR, violation(frame(0x83, new byte[] {1})), "opcode 3");
        assertThrows(EOFException.class, () -> WebSocketFrames.readUntilClose(
                new ByteArrayInputStream(frame(0x82, new byte[] {1})), new Recorder()));
    }

    private static int violation(byte[] frames) {
        return assertThrows(WebSocketFrames.Violation.class,
                () -> WebSocketFrames.readUntilClose(new ByteArrayInputStream(frames), new Recorder())).code;
    }

    @Test
    void theServersFrameHeadsUseTheShortestLength() {
        assertArrayEquals(new byte[] {(byte) 0x82, 125}, WebSocketFrames.header(WebSocketFrames.BINARY, 125));
        assertArrayEquals(new byte[] {(byte) 0x82, 126, 0, 126}, WebSocketFrames.header(WebSocketFrames.BINARY, 126));
        assertArrayEquals(new byte[] {(byte) 0x82, 126, (byte) 0xff, (byte) 0xff},
                WebSocketFrames.header(WebSocketFrames.BINARY, 65535));
        assertArrayEquals(new byte[] {(byte) 0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0},
                WebSocketFrames.header(WebSocketFrames.BINARY, 65536));
        assertArrayEquals(new byte[] {(byte) 0x88, 2}, WebSocketFrames.header(WebSocketFrames.CLOSE, 2));
        assertArrayEquals(new byte[] {0x03, (byte) 0xe9}, WebSocketFrames.closePayload(WebSocketFrames.GOING_AWAY));
    }
}
