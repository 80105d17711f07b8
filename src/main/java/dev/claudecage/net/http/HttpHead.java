package dev.claudecage.net.http;

import dev.claudecage.host.UntrustedText;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The start line and header fields of an HTTP/1.x request or response, read exactly up to the
 * blank line, so that whatever follows (a body, tunnelled bytes) stays in the stream. Strict where
 * leniency would let the proxy and the server read one message two ways: no folded lines, no
 * spaces in names, a bounded size.
 */
public record HttpHead(String startLine, List<Header> headers) {

    public record Header(String name, String value) {
    }

    static final int MAX_BYTES = 64 * 1024;
    static final int MAX_LINE_BYTES = 8 * 1024;
    private static final int MAX_HEADERS = 200;
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    /** Hop-by-hop fields (RFC 9110 7.6.1), which describe one connection and never travel further. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "trailer", "upgrade");

    /** Fields that frame or route the message: never dropped, whatever Connection lists. */
    private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding", "host");

    public HttpHead {
        headers = List.copyOf(headers);
    }

    /**
     * Reads one head. EOFException when the stream ends before the first byte or mid-head,
     * ProtocolException when it is not HTTP/1.x as this proxy accepts it.
     */
    public static HttpHead read(InputStream in) throws IOException {
        String startLine = readLine(in, true);
        if (startLine.isEmpty()) {
            throw new ProtocolException("empty request line");
        }
        List<Header> headers = new ArrayList<>();
        int total = startLine.length();
        while (true) {
            String line = readLine(in, false);
            if (line.isEmpty()) {
                return new HttpHead(startLine, headers);
            }
            total += line.length() + 2;
            if (total > MAX_BYTES || headers.size() >= MAX_HEADERS) {
                throw new ProtocolException("the header is larger than " + MAX_BYTES / 1024 + " KiB or "
                        + MAX_HEADERS + " fields");
            }
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                throw new ProtocolException("folded header lines are not accepted");
            }
            int colon = line.indexOf(':');
            String name = colon < 0 ? "" : line.substring(0, colon);
            if (!TOKEN.matcher(name).matches()) {
                throw new ProtocolException("malformed header line: " + UntrustedText.excerpt(line));
            }
            headers.add(new Header(name, line.substring(colon + 1).strip()));
        }
    }

    /**
     * One line without its CRLF (a bare LF is accepted, as most servers do). Bytes are taken as
     * ISO-8859-1, one char each, so the head is written out again byte for byte.
     */
    static String readLine(InputStream in, boolean first) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException(first && line.size() == 0 ? "closed before sending anything"
                        : "closed in the middle of the header");
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                String text = new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
                if (text.indexOf('\r') >= 0 || text.indexOf('\0') >= 0) {
                    throw new ProtocolException("a bare CR or NUL in the header");
                }
                return text;
            }
            if (line.size() >= MAX_LINE_BYTES) {
                throw new ProtocolException("a header line is longer than " + MAX_LINE_BYTES / 1024 + " KiB");
            }
            line.write(b);
        }
    }

    /** Every value of a field, in order; names compare without case. */
    public List<String> values(String name) {
        return headers.stream().filter(header -> header.name().equalsIgnoreCase(name)).map(Header::value).toList();
    }

    public HttpHead withStartLine(String line) {
        return new HttpHead(line, headers);
    }

    public HttpHead without(Predicate<String> lowerCaseName) {
        return new HttpHead(startLine, headers.stream()
                .filter(header -> !lowerCaseName.test(header.name().toLowerCase(Locale.ROOT))).toList());
    }

    public HttpHead with(String name, String value) {
        List<Header> more = new ArrayList<>(headers);
        more.add(new Header(name, value));
        return new HttpHead(startLine, more);
    }

    /**
     * The head as it may travel one hop further: hop-by-hop fields, every field the Connection
     * field names, and every Proxy-* field removed, and "Connection: close" added, because the
     * proxy relays exactly one exchange per connection.
     */
    public HttpHead forOneHop() {
        Set<String> named = new HashSet<>();
        for (String value : values("Connection")) {
            for (String token : value.split(",")) {
                named.add(token.strip().toLowerCase(Locale.ROOT));
            }
        }
        named.removeAll(FRAMING);
        return without(name -> HOP_BY_HOP.contains(name) || name.startsWith("proxy-") || named.contains(name))
                .with("Connection", "close");
    }

    public byte[] bytes() {
        StringBuilder text = new StringBuilder(startLine).append("\r\n");
        for (Header header : headers) {
            text.append(header.name()).append(": ").append(header.value()).append("\r\n");
        }
        return text.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
