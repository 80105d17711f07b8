package dev.claudecage.net.http;

import java.io.IOException;
import java.io.InputStream;

/** The one-byte read of a stream whose every byte must pass through its block read (metered, framed). */
public final class ByteReads {

    private ByteReads() {
    }

    /** {@link InputStream#read()} by way of {@code stream}'s own {@code read(byte[], int, int)}. */
    public static int readOne(InputStream stream) throws IOException {
        byte[] one = new byte[1];
        return stream.read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }
}
