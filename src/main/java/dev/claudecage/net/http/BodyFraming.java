package dev.claudecage.net.http;

import dev.claudecage.host.UntrustedText;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a request body ends, read from its head as RFC 9112 section 6 says, and the copy that
 * stops exactly there. A request the proxy and the server could frame differently (request
 * smuggling) is refused rather than guessed at. Bodies stream through; nothing is held whole.
 *
 * @param contentLength the body's length when it is not chunked (0 when there is no body)
 */
public record BodyFraming(long contentLength, boolean chunked) {

    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,18}");
    private static final Pattern CHUNK_SIZE = Pattern.compile("[0-9a-fA-F]{1,15}");
    private static final int MAX_TRAILERS = 100;
    private static final int BUFFER_SIZE = 64 * 1024;

    public static BodyFraming of(HttpHead head) throws ProtocolException {
        List<String> encodings = head.values("Transfer-Encoding");
        List<String> lengths = head.values("Content-Length");
        if (!encodings.isEmpty()) {
            if (!lengths.isEmpty()) {
                throw new ProtocolException("both Transfer-Encoding and Content-Length");
            }
            String encoding = String.join(",", encodings).strip().toLowerCase(Locale.ROOT);
            if (!encoding.equals("chunked")) {
                throw new ProtocolException("unsupported Transfer-Encoding: " + UntrustedText.excerpt(encoding));
            }
            return new BodyFraming(0, true);
        }
        if (lengths.isEmpty()) {
            return new BodyFraming(0, false);
        }
        String length = lengths.get(0);
        if (!lengths.stream().allMatch(length::equals) || !DIGITS.matcher(length).matches()) {
            throw new ProtocolException("invalid Content-Length: " + UntrustedText.excerpt(String.join(", ", lengths)));
        }
        return new BodyFraming(Long.parseLong(length), false);
    }

    /** Copies the body and nothing after it; chunk sizes are written anew, without extensions. */
    public void copy(InputStream in, OutputStream out) throws IOException {
        if (!chunked) {
            copyExactly(in, out, contentLength);
            return;
        }
        while (true) {
            long length = readChunkSize(in);
            out.write((Long.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            if (length == 0) {
                copyTrailers(in, out);
                return;
            }
            copyExactly(in, out, length);
            readChunkEnd(in);
            out.write(new byte[] {'\r', '\n'});
        }
    }

    /**
     * The body's own bytes, without chunk framing or trailers, as a stream that ends where the body
     * ends and never reads past it: for a server that passes the body on framed its own way.
     */
    public InputStream open(InputStream in) {
        return new InputStream() {
            private long remaining = chunked ? 0 : contentLength;
            private boolean ended = !chunked && contentLength == 0;

            @Override
            public int read() throws IOException {
                return ByteReads.readOne(this);
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                if (length == 0) {
                    return 0;
                }
                if (remaining == 0 && !ended && chunked) {
                    remaining = readChunkSize(in);
                    if (remaining == 0) {
                        copyTrailers(in, OutputStream.nullOutputStream());
                        ended = true;
                    }
                }
                if (ended) {
                    return -1;
                }
                int read = in.read(buffer, offset, (int) Math.min(length, remaining));
                if (read < 0) {
                    throw new EOFException("the body ended " + remaining + " bytes early");
                }
                remaining -= read;
                if (remaining == 0) {
                    if (chunked) {
                        readChunkEnd(in);
                    } else {
                        ended = true;
                    }
                }
                return read;
            }
        };
    }

    private static long readChunkSize(InputStream in) throws IOException {
        String sizeLine = HttpHead.readLine(in, false);
        int semicolon = sizeLine.indexOf(';');
        String size = (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip();
        if (!CHUNK_SIZE.matcher(size).matches()) {
            throw new ProtocolException("invalid chunk size: " + UntrustedText.excerpt(sizeLine));
        }
        return Long.parseLong(size, 16);
    }

    private static void readChunkEnd(InputStream in) throws IOException {
        if (!HttpHead.readLine(in, false).isEmpty()) {
            throw new ProtocolException("a chunk is longer than its size says");
        }
    }

    private static void copyTrailers(InputStream in, OutputStream out) throws IOException {
        for (int count = 0; count <= MAX_TRAILERS; count++) {
            String line = HttpHead.readLine(in, false);
            if (line.isEmpty()) {
                out.write(new byte[] {'\r', '\n'});
                return;
            }
            if (line.indexOf(':') <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                throw new ProtocolException("malformed trailer line: " + UntrustedText.excerpt(line));
            }
            out.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        }
        throw new ProtocolException("more than " + MAX_TRAILERS + " trailer fields");
    }

    private static void copyExactly(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buffer = new byte[(int) Math.min(BUFFER_SIZE, Math.max(length, 1))];
        long remaining = length;
        while (remaining > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
            if (n < 0) {
                throw new EOFException("the body ended " + remaining + " bytes early");
            }
            out.write(buffer, 0, n);
            remaining -= n;
        }
    }
}
