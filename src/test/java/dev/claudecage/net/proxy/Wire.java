package dev.claudecage.net.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** A test's own HTTP/1.1 client side, independent of the proxy's parser, reading with timeouts. */
final class Wire {

    static final int TIMEOUT_MILLIS = 5000;
    private static final int MAX_HEAD = 64 * 1024;

    private Wire() {
    }

    static Socket open(int port) throws IOException {
        return open(InetAddress.getLoopbackAddress(), port);
    }

    static Socket open(InetAddress address, int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(address, port), TIMEOUT_MILLIS);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        return socket;
    }

    static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** Sends CONNECT and returns the proxy's response head. */
    static String connect(Socket socket, String authority) throws IOException {
        send(socket, "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
        return readHead(socket.getInputStream());
    }

    /** Everything up to and including the blank line, read byte by byte so nothing after it is taken. */
    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (head.size() < MAX_HEAD) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head.size() + " bytes of head: " + head);
            }
            head.write(b);
            String text = head.toString(StandardCharsets.ISO_8859_1);
            if (text.endsWith("\r\n\r\n")) {
                return text;
            }
        }
        throw new IOException("head longer than " + MAX_HEAD);
    }

    static int status(String head) {
        return Integer.parseInt(head.substring(head.indexOf(' ') + 1, head.indexOf(' ') + 4));
    }

    /** The body, by Content-Length, or to the end of the stream. */
    static String readBody(InputStream in, String head) throws IOException {
        String length = header(head, "Content-Length");
        byte[] body = length == null ? in.readAllBytes() : TestServer.readExactly(in, Integer.parseInt(length));
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The value of a field in a head, or null. */
    static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }

    static boolean hasHeader(String head, String name) {
        return header(head, name) != null;
    }

    /** Whether the peer closed: reading gives end of stream or a reset within the timeout. */
    static boolean closedByPeer(Socket socket) {
        try {
            return socket.getInputStream().read() < 0;
        } catch (IOException e) {
            return !e.getMessage().toLowerCase(Locale.ROOT).contains("timed out");
        }
    }

    /** Reads until the proxy closes the connection, bounded; how many bytes came. */
    static int drain(Socket socket) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        int total = 0;
        try {
            for (int i = 0; i < 10_000; i++) {
                int n = socket.getInputStream().read(buffer);
                if (n < 0) {
                    return total;
                }
                total += n;
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("timed out")) {
                throw e;
            }
            return total;
        }
        throw new AssertionError("the connection was never cut off");
    }
}
