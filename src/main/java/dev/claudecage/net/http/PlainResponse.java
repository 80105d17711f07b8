package dev.claudecage.net.http;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The short answers claude-cage's own HTTP endpoints give when they refuse or fail (the egress
 * proxy, the git gateway, the desktop's server): a status, one line of text that says who answers
 * and why, and the connection closed after it.
 */
public final class PlainResponse {

    private static final Map<Integer, String> REASONS = Map.of(200, "OK", 302, "Found", 400, "Bad Request",
            401, "Unauthorized", 403, "Forbidden", 404, "Not Found", 405, "Method Not Allowed",
            429, "Too Many Requests", 502, "Bad Gateway");

    private PlainResponse() {
    }

    /** The reason phrase of {@code status}, "Error" for one this table does not know. */
    public static String reason(int status) {
        return REASONS.getOrDefault(status, "Error");
    }

    /** Writes "HTTP/1.1 STATUS REASON", then "{@code who}: {@code message}" as a text/plain body. */
    public static void write(OutputStream out, int status, String who, String message) throws IOException {
        byte[] body = (who + ": " + message + "\n").getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " " + reason(status) + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }
}
