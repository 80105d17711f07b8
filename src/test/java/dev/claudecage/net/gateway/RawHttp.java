package dev.claudecage.net.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cage's side of the wire, byte for byte: sends a request as written and keeps every byte of the
 * response (status line, headers, framing, body), so that a test can scan all of it for the real key.
 */
final class RawHttp {

    static final int TIMEOUT_MILLIS = 10_000;

    /** A parsed response, with the raw bytes it came from. */
    record Response(byte[] raw, int status, Map<String, String> headers, byte[] body, boolean complete) {
        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String rawText() {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private RawHttp() {
    }

    /** A request head with Host and Connection: close, the given extra header lines, and a Content-Length body. */
    static String head(String method, String target, List<String> headerLines, int contentLength) {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n");
        for (String line : headerLines) {
            head.append(line).append("\r\n");
        }
        if (contentLength >= 0) {
            head.append("Content-Length: ").append(contentLength).append("\r\n");
        }
        return head.append("\r\n").toString();
    }

    static Response send(InetSocketAddress address, String method, String target, List<String> headerLines, String body)
            throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = head(method, target, headerLines, body == null ? -1 : bytes.length);
        return sendRaw(address, concat(head.getBytes(StandardCharsets.ISO_8859_1), bytes));
    }

    static Response sendRaw(InetSocketAddress address, byte[] request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            return parse(readAll(socket.getInputStream()));
        }
    }

    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int read; (read = in.read(buffer)) >= 0; ) {
                all.write(buffer, 0, read);
            }
        } catch (java.net.SocketException reset) {
            // A reset after the bytes we have: keep them, the parse says whether they are complete.
        }
        return all.toByteArray();
    }

    static Response parse(byte[] raw) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            return new Response(raw, -1, Map.of(), new byte[0], false);
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
                    (a, b) -> a + ", " + b);
        }
        byte[] rest = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            return dechunk(raw, status, headers, rest);
        }
        String length = headers.get("content-length");
        boolean complete = length == null || rest.length == Integer.parseInt(length);
        return new Response(raw, status, headers, rest, complete);
    }

    private static Response dechunk(byte[] raw, int status, Map<String, String> headers, byte[] rest) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int at = 0;
        while (true) {
            int lineEnd = indexOf(rest, at);
            if (lineEnd < 0) {
                return new Response(raw, status, headers, body.toByteArray(), false);
            }
            int size = Integer.parseInt(new String(rest, at, lineEnd - at, StandardCharsets.ISO_8859_1).trim(), 16);
            at = lineEnd + 2;
            if (size == 0) {
                return new Response(raw, status, headers, body.toByteArray(), true);
            }
            if (at + size > rest.length) {
                body.write(rest, at, rest.length - at);
                return new Response(raw, status, headers, body.toByteArray(), false);
            }
            body.write(rest, at, size);
            at += size + 2;
        }
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i + 1 < bytes.length; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    static boolean contains(byte[] haystack, String needle) {
        return new String(haystack, StandardCharsets.ISO_8859_1).contains(needle);
    }
}
