package dev.claudecage.net.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * A buffered stream over a socket, for reading a request or response head a byte at a time;
 * once the head is read, {@link #takeBuffered} hands over what was read past it, and the relay
 * goes on reading the channel itself, into a direct buffer, without another copy.
 */
final class ChannelInput extends BufferedInputStream {

    private static final int HEAD_BUFFER_SIZE = 16 * 1024;

    ChannelInput(SocketChannel channel) throws IOException {
        super(channel.socket().getInputStream(), HEAD_BUFFER_SIZE);
    }

    /** The bytes read from the socket but not yet from this stream, which then holds none. */
    synchronized byte[] takeBuffered() {
        byte[] rest = Arrays.copyOfRange(buf, pos, count);
        pos = count;
        return rest;
    }
}
