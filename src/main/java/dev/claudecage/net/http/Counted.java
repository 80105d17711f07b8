package dev.claudecage.net.http;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.LongConsumer;

/** Streams that tell {@code onBytes} how many bytes pass through them, for a request's audit line. */
public final class Counted {

    private Counted() {
    }

    /** {@code in}, telling {@code onBytes} each count of bytes read. */
    public static InputStream input(InputStream in, LongConsumer onBytes) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    onBytes.accept(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int read = super.read(buffer, offset, length);
                if (read > 0) {
                    onBytes.accept(read);
                }
                return read;
            }
        };
    }

    /** {@code out}, telling {@code onBytes} each count of bytes written. */
    public static OutputStream output(OutputStream out, LongConsumer onBytes) {
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                onBytes.accept(1);
            }

            @Override
            public void write(byte[] buffer, int offset, int length) throws IOException {
                out.write(buffer, offset, length);
                onBytes.accept(length);
            }
        };
    }
}
