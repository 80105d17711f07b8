package dev.claudecage.net;

import dev.claudecage.Teardown;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** One direction of a relayed connection (the rootless bridges); and closing what is left of one. */
public final class ChannelCopy {

    private static final int BUFFER = 64 * 1024;

    private ChannelCopy() {
    }

    /**
     * Copies {@code from} to {@code to} until end of stream, then half-closes {@code to} so that its
     * peer sees the end too. A reset or a close on either side closes both.
     */
    public static void untilEnd(SocketChannel from, SocketChannel to) {
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                buffer.clear();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            Teardown.closeQuietly(from);
            Teardown.closeQuietly(to);
        }
    }
}
