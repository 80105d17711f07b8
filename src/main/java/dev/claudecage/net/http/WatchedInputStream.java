package dev.claudecage.net.http;

import java.io.IOException;
import java.io.InputStream;

/**
 * A stream that hands on what it reads from another and shows each block to {@link #passed} first. Every
 * byte goes through the block read, the one-byte read and {@code skip} included, so none gets past unseen.
 */
public abstract class WatchedInputStream extends InputStream {

    private final InputStream in;

    protected WatchedInputStream(InputStream in) {
        this.in = in;
    }

    /** What to do with the {@code count} bytes just read into {@code bytes} at {@code offset}; throws to refuse them. */
    protected abstract void passed(byte[] bytes, int offset, int count) throws IOException;

    @Override
    public final int read() throws IOException {
        return ByteReads.readOne(this);
    }

    @Override
    public final int read(byte[] bytes, int offset, int length) throws IOException {
        int read = in.read(bytes, offset, length);
        if (read > 0) {
            passed(bytes, offset, read);
        }
        return read;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
