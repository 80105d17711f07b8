package dev.claudecage.desktop;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.host.Netns;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.AcceptLoop;
import dev.claudecage.net.http.HttpHead;
import dev.claudecage.net.http.PlainResponse;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The desktop as the browser reaches it: a small web server of the supervisor's, on the published
 * host address, that serves the {@link DesktopPage} (noVNC, from this host) and carries the VNC
 * stream between the page's WebSocket and the cage. For each WebSocket it opens a connection to
 * the VNC server on the cage's own loopback: entering the cage's network namespace (setns, on
 * that thread only) as root, through a relay's Unix socket rootless ({@link DesktopRelay}). Sockets
 * keep the namespace they were made in, so this works for every network policy, {@code none}
 * included, and reaches that one port and nothing else of the cage.
 *
 * <p>Nothing the cage sends is ever a page: its bytes reach the browser only inside binary
 * WebSocket frames, to noVNC's VNC client, and only after they began as VNC does ("RFB
 * 003.008\n"). So the cage cannot put its own script on the page's origin, whatever it runs on
 * that port.
 */
public final class DesktopServer implements AutoCloseable {

    /** More connections at once than a browser tab or two would open are refused. */
    static final int MAX_CONNECTIONS = 32;
    /** How long a browser has to send its request. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long the VNC server in the cage may take to come up: the page may load before it listens,
     * and on a busy host (two cores starting Xvfb, x11vnc and Claude Code at once) that took over 10 s.
     */
    static final Duration CAGE_TIMEOUT = Duration.ofSeconds(60);
    /** How long one connection to the cage may take to greet. */
    private static final Duration GREETING_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration RETRY = Duration.ofMillis(100);
    /** A VNC server's first words: "RFB", the protocol version, a newline (RFC 6143, 7.1.1). */
    private static final Pattern RFB_VERSION = Pattern.compile("RFB [0-9]{3}\\.[0-9]{3}\n");
    private static final int RFB_VERSION_LENGTH = 12;
    private final ServerSocketChannel server;
    private final DesktopPage page;
    private final Duration cageTimeout;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private AcceptLoop<SocketChannel> loop;

    private DesktopServer(ServerSocketChannel server, DesktopPage page, Duration cageTimeout) {
        this.server = server;
        this.page = page;
        this.cageTimeout = cageTimeout;
    }

    /** Binds the host side now, so that a port in use fails the start before the cage is made. */
    public static DesktopServer bind(InetSocketAddress listen, DesktopPage page) {
        return bind(listen, page, CAGE_TIMEOUT);
    }

    /** As {@link #bind(InetSocketAddress, DesktopPage)}, waiting {@code cageTimeout} for the VNC server to greet. */
    static DesktopServer bind(InetSocketAddress listen, DesktopPage page, Duration cageTimeout) {
        try {
            // An IPv4 address gets an IPv4 socket, so the host sees exactly that address bound (not ::ffff:...).
            ServerSocketChannel server = ServerSocketChannel.open(listen.getAddress() instanceof Inet4Address
                    ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
            try {
                server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                server.bind(listen, 16);
                return new DesktopServer(server, page, cageTimeout);
            } catch (IOException e) {
                server.close();
                throw e;
            }
        } catch (IOException e) {
            throw new CageException("cannot listen on " + listen.getAddress().getHostAddress() + ":" + listen.getPort()
                    + " for the desktop: " + e.getMessage(), "choose another port with --port ADDRESS:PORT:6080");
        }
    }

    /** The address actually bound (the port chosen, when 0 was asked for). */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new CageException("the desktop's listening socket is gone: " + e.getMessage());
        }
    }

    /** Opens one connection to the VNC server inside the cage. */
    @FunctionalInterface
    public interface Inside {
        SocketChannel connect() throws Exception;
    }

    /**
     * {@code cagePort} on the loopback of {@code cage}, reached by entering its network namespace
     * (root); {@code cage} must stay open until {@link #close}.
     */
    public static Inside throughNamespace(Netns cage, int cagePort) {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), cagePort);
        return () -> cage.call(() -> {
            SocketChannel channel = SocketChannel.open();
            try {
                channel.connect(target);
                return channel;
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        });
    }

    /** The Unix socket of a relay inside the cage's network namespace (rootless, see {@link DesktopRelay}). */
    public static Inside throughRelay(Path socket) {
        return () -> SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    /**
     * Starts answering, and connects each WebSocket to the cage through {@code inside};
     * connections that arrived since {@link #bind} waited in the backlog.
     */
    public synchronized void start(Inside inside, Consumer<String> log) {
        if (loop != null) {
            throw new IllegalStateException("the desktop's server runs already");
        }
        loop = AcceptLoop.start("desktop", server, server::accept, MAX_CONNECTIONS,
                client -> serve(client, inside, log),
                client -> log.accept("desktop: refused a connection from " + remote(client) + ": "
                        + MAX_CONNECTIONS + " connections are open"));
    }

    private void serve(SocketChannel client, Inside inside, Consumer<String> log) {
        open.add(client);
        try {
            client.socket().setSoTimeout((int) REQUEST_TIMEOUT.toMillis());
            InputStream in = new BufferedInputStream(client.socket().getInputStream());
            HttpHead head;
            try {
                head = HttpHead.read(in);
            } catch (EOFException e) {
                return;
            } catch (IOException e) {
                answer(client, 400, "not an HTTP request: " + e.getMessage());
                return;
            }
            DesktopRequest request = DesktopRequest.decide(head, page);
            if (request instanceof DesktopRequest.Serve serve) {
                byte[] body = Files.readAllBytes(serve.file().path());
                write(client, response(200, serve.file().contentType(), body.length, ""), body);
            } else if (request instanceof DesktopRequest.Redirect redirect) {
                write(client, response(302, "text/plain; charset=utf-8", 0, "Location: " + redirect.location() + "\r\n"));
            } else if (request instanceof DesktopRequest.Upgrade upgrade) {
                carry(client, in, upgrade, inside, log);
            } else {
                DesktopRequest.Refuse refuse = (DesktopRequest.Refuse) request;
                if (refuse.logged()) {
                    log.accept("desktop: refused " + DesktopRequest.summary(head) + " from " + remote(client) + ": "
                            + refuse.reason());
                }
                answer(client, refuse.status(), refuse.reason());
            }
        } catch (IOException e) {
            if (!closed) {
                log.accept("desktop: a connection from " + remote(client) + " failed: " + e.getMessage());
            }
        } finally {
            Teardown.closeQuietly(client);
            open.remove(client);
        }
    }

    /**
     * The WebSocket: reaches the VNC server in the cage, answers the upgrade, and carries the VNC
     * stream both ways until either side ends.
     */
    private void carry(SocketChannel client, InputStream in, DesktopRequest.Upgrade upgrade, Inside inside,
                       Consumer<String> log) throws IOException {
        Vnc vnc;
        try {
            vnc = reachVnc(inside);
        } catch (Unreachable e) {
            log.accept("desktop: cannot connect " + remote(client) + " to the desktop in the cage: " + e.getMessage());
            answer(client, 502, "the desktop in the cage does not answer as a VNC server");
            return;
        }
        SocketChannel cage = vnc.channel();
        open.add(cage);
        FrameWriter toBrowser = new FrameWriter(client);
        Thread fromCage = DaemonThreads.unstarted("desktop-from-cage", () -> {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            buffer.put(vnc.greeting());
            try {
                do {
                    buffer.flip();
                    toBrowser.send(WebSocketFrames.BINARY, buffer);
                    buffer.clear();
                } while (cage.read(buffer) >= 0);
                toBrowser.close(WebSocketFrames.GOING_AWAY);
            } catch (IOException e) {
                // The browser went, or the server closed: the other direction ends as well.
            } finally {
                Teardown.closeQuietly(cage);
                Teardown.closeQuietly(client);
            }
        });
        try {
            StringBuilder head = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")
                    .append("Connection: Upgrade\r\nSec-WebSocket-Accept: ").append(upgrade.accept()).append("\r\n");
            if (upgrade.protocol() != null) {
                head.append("Sec-WebSocket-Protocol: ").append(upgrade.protocol()).append("\r\n");
            }
            write(client, head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            client.socket().setSoTimeout(0);
            fromCage.start();
            WebSocketFrames.readUntilClose(in, new WebSocketFrames.Receiver() {
                @Override
                public void data(ByteBuffer payload) throws IOException {
                    while (payload.hasRemaining()) {
                        cage.write(payload);
                    }
                }

                @Override
                public void ping(byte[] payload) throws IOException {
                    toBrowser.send(WebSocketFrames.PONG, ByteBuffer.wrap(payload));
                }
            });
            toBrowser.close(WebSocketFrames.NORMAL_CLOSURE);
        } catch (WebSocketFrames.Violation e) {
            log.accept("desktop: the WebSocket from " + remote(client) + " broke the protocol: " + e.getMessage());
            toBrowser.close(e.code);
        } catch (IOException e) {
            // The browser went away, or the cage's side ended (and closed both).
        } finally {
            Teardown.closeQuietly(cage);
            open.remove(cage);
        }
    }

    /** A connection to the VNC server in the cage, and the protocol version it greeted with. */
    private record Vnc(SocketChannel channel, byte[] greeting) {
    }

    /**
     * A connection to the VNC server in the cage that has sent its protocol version, within
     * {@code cageTimeout}: the server may not listen yet when the page loads. Anything but VNC's
     * greeting there fails at once.
     */
    private Vnc reachVnc(Inside inside) throws Unreachable {
        long deadline = System.nanoTime() + cageTimeout.toNanos();
        String last;
        while (true) {
            SocketChannel cage = null;
            try {
                cage = inside.connect();
                ByteBuffer greeting = ByteBuffer.allocate(RFB_VERSION_LENGTH);
                readWithin(cage, greeting, Math.min(deadline, System.nanoTime() + GREETING_TIMEOUT.toNanos()));
                String text = new String(greeting.array(), 0, greeting.position(), StandardCharsets.ISO_8859_1);
                if (RFB_VERSION.matcher(text).matches()) {
                    return new Vnc(cage, greeting.array());
                }
                if (!greeting.hasRemaining()) {
                    Teardown.closeQuietly(cage);
                    throw new Unreachable("what listens there is not a VNC server: it began with '"
                            + UntrustedText.excerpt(text) + "'");
                }
                last = text.isEmpty() ? "it sent nothing" : "it sent only '" + UntrustedText.excerpt(text) + "'";
            } catch (Unreachable e) {
                throw e;
            } catch (Exception e) {
                last = e.getMessage() == null ? e.toString() : e.getMessage();
            }
            if (cage != null) {
                Teardown.closeQuietly(cage);
            }
            if (closed || System.nanoTime() + RETRY.toNanos() > deadline) {
                throw new Unreachable("no VNC greeting within " + cageTimeout.toSeconds() + " s (" + last + ")");
            }
            try {
                Thread.sleep(RETRY.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Unreachable("interrupted");
            }
        }
    }

    private static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }

    /** Reads into {@code buffer} until it is full, the stream ends or the deadline (System.nanoTime) passes. */
    private static void readWithin(SocketChannel channel, ByteBuffer buffer, long deadline) throws IOException {
        channel.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            while (buffer.hasRemaining()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                selector.select(Math.max(1, left / 1_000_000));
                selector.selectedKeys().clear();
                if (channel.read(buffer) < 0) {
                    return;
                }
            }
        } finally {
            channel.configureBlocking(true);
        }
    }

    /** Frames to the browser, from the cage's thread and the browser's (pongs, the close) alike. */
    private static final class FrameWriter {
        private final SocketChannel client;
        private boolean closeSent;

        FrameWriter(SocketChannel client) {
            this.client = client;
        }

        synchronized void send(int opcode, ByteBuffer payload) throws IOException {
            if (closeSent) {
                return;
            }
            write(client, WebSocketFrames.header(opcode, payload.remaining()));
            while (payload.hasRemaining()) {
                client.write(payload);
            }
        }

        /** Sends the close frame, once; a browser that is gone already changes nothing. */
        synchronized void close(int code) {
            if (closeSent) {
                return;
            }
            try {
                send(WebSocketFrames.CLOSE, ByteBuffer.wrap(WebSocketFrames.closePayload(code)));
            } catch (IOException e) {
                // Closing a broken connection: nothing more to do.
            }
            closeSent = true;
        }
    }

    private static byte[] response(int status, String contentType, int length, String extra) {
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(PlainResponse.reason(status))
                .append("\r\nContent-Type: ").append(contentType)
                .append("\r\nContent-Length: ").append(length).append("\r\n").append(extra);
        for (Map.Entry<String, String> header : DesktopPage.HEADERS) {
            head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
        }
        return head.append("Connection: close\r\n\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void answer(SocketChannel client, int status, String reason) throws IOException {
        byte[] body = (reason + "\n").getBytes(StandardCharsets.UTF_8);
        write(client, response(status, "text/plain; charset=utf-8", body.length, ""), body);
    }

    private static void write(SocketChannel client, byte[]... parts) throws IOException {
        for (byte[] part : parts) {
            ByteBuffer buffer = ByteBuffer.wrap(part);
            while (buffer.hasRemaining()) {
                client.write(buffer);
            }
        }
    }

    /** Stops listening and cuts every connection, the cage's included. */
    @Override
    public void close() {
        closed = true;
        AcceptLoop<SocketChannel> running;
        synchronized (this) {
            running = loop;
        }
        if (running == null) {
            Teardown.closeQuietly(server);
        }
        for (SocketChannel channel : open) {
            Teardown.closeQuietly(channel);
        }
        if (running != null) {
            running.close();
        }
    }

    private static String remote(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }
}
