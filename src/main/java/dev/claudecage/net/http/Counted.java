package dev.claudecage.net.http;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.function.LongConsumer;

/** A stream that tells {@code onBytes} how many bytes pass through it, for a request's audit line. */
public final class Counted {

    private Counted() {
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
