package dev.claudecage.net.proxy;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.NameResolver;
import dev.claudecage.net.http.HttpHead;
import dev.claudecage.net.http.PlainResponse;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A cage's egress proxy, on the host side of the cage's link: every connection the cage makes
 * to the outside arrives here, is decided by the {@link EgressPolicy}, and, when allowed, is
 * relayed to the server byte for byte, streaming both ways. Three listeners: the explicit HTTP
 * proxy (CONNECT and absolute-URI requests) for clients that honour HTTP(S)_PROXY, and two
 * transparent ones, deciding by TLS SNI and by the HTTP Host field, for clients that do not
 * (the cage's DNS stub answers allowed names with the gateway address); and one TCP relay per
 * allowed_hosts entry on another port ({@link RelayRoute}), deciding by the port. One audit line per
 * decision. The limits are the cage's ({@link TrafficLimits}): they count every connection of this proxy
 * and of the cage's API gateway together.
 */
public final class EgressProxy implements AutoCloseable {

    static final String AUDIT_SOURCE = "proxy";
    static final String RELAY_AUDIT_SOURCE = "relay";

    // Large enough that a loopback transfer is not bound by system calls; one per pool thread.
    private static final int RELAY_BUFFER_SIZE = 256 * 1024;
    private static final ThreadLocal<ByteBuffer> RELAY_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(RELAY_BUFFER_SIZE));
    private static final int BACKLOG = 128;
    private static final int WORKER_HEADROOM = 32;
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final int MAX_INTERIM_RESPONSES = 20;
    private static final byte[] CONNECT_ESTABLISHED =
            "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    // A fatal TLS alert, access_denied (49): the client says "access denied", not just "reset".
    private static final byte[] TLS_ACCESS_DENIED = {21, 3, 3, 0, 2, 2, 49};

    /** What a listener reads and how it says no. */
    private interface Listener {
        String name();

        ProxyRequest read(InputStream in) throws IOException;

        void refuse(OutputStream out, int status, String message) throws IOException;
    }

    private enum Protocol implements Listener {
        HTTP_PROXY(true), TRANSPARENT_TLS(false), TRANSPARENT_HTTP(true);

        private final boolean speaksHttp;

        Protocol(boolean speaksHttp) {
            this.speaksHttp = speaksHttp;
        }

        @Override
        public ProxyRequest read(InputStream in) throws IOException {
            return switch (this) {
                case HTTP_PROXY -> ProxyRequest.readExplicit(in);
                case TRANSPARENT_TLS -> ProxyRequest.readTransparentTls(in);
                case TRANSPARENT_HTTP -> ProxyRequest.readTransparentHttp(in);
            };
        }

        @Override
        public void refuse(OutputStream out, int status, String message) throws IOException {
            if (speaksHttp) {
                respond(out, status, message);
            } else {
                out.write(TLS_ACCESS_DENIED);
                out.flush();
            }
        }
    }

    /** A TCP relay's port: the route is the whole request, read from nothing the cage sends. */
    private record Relay(RelayRoute route) implements Listener {
        @Override
        public String name() {
            return "relay-" + route.host() + "-" + route.port();
        }

        @Override
        public ProxyRequest read(InputStream in) {
            return ProxyRequest.relayed(route);
        }

        @Override
        public void refuse(OutputStream out, int status, String message) {
            // Raw TCP has no words for a refusal: the connection is closed, and the audit line says why.
        }
    }

    private final ProxySettings settings;
    private final Gatekeeper gatekeeper;
    private final Dialer dialer;
    private final AuditLog audit;
    private final TrafficLimits limits;
    private final ThreadPoolExecutor workers;
    private final ConnectionDispatch connections;
    private final Refusals refusals = new Refusals("egress-proxy-refusal");
    private final ScheduledExecutorService watchdog;
    private final List<ServerSocketChannel> servers = new ArrayList<>();
    private final List<Thread> acceptors = new ArrayList<>();
    private final Map<Listener, Integer> ports = new HashMap<>();
    private volatile boolean closed;

    private EgressProxy(ProxySettings settings, EgressPolicy policy, TrafficLimits limits, NameResolver resolver,
                        Dialer dialer, AuditLog audit) {
        this.settings = settings;
        this.gatekeeper = new Gatekeeper(policy, resolver, new WildcardBudget(policy.wildcardNamesPerMinute(),
                System::nanoTime));
        this.dialer = dialer;
        this.audit = audit;
        this.limits = limits;
        // Two threads per connection (one each way), and the connection cap bounds the connections;
        // the headroom covers threads that freed their slot and are still writing the audit line.
        this.workers = new ThreadPoolExecutor(0, 2 * limits.maxConnections() + WORKER_HEADROOM, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), threads("egress-proxy"));
        this.connections = new ConnectionDispatch("the proxy", limits, workers);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(threads("egress-proxy-watchdog"));
    }

    /** Starts the proxy with plain TCP connections upstream. */
    public static EgressProxy start(ProxySettings settings, EgressPolicy policy, TrafficLimits limits,
                                    NameResolver resolver, AuditLog audit) {
        return start(settings, policy, limits, resolver, Dialer.direct(settings.connectTimeout()), audit);
    }

    /**
     * Starts the proxy: binds every listener on every address, or fails with nothing left open.
     * The audit log must outlive the proxy: close the proxy first.
     *
     * @param limits the cage's limits, which its API gateway shares
     */
    public static EgressProxy start(ProxySettings settings, EgressPolicy policy, TrafficLimits limits,
                                    NameResolver resolver, Dialer dialer, AuditLog audit) {
        EgressProxy proxy = new EgressProxy(settings, policy, limits, resolver, dialer, audit);
        try {
            proxy.listen(Protocol.HTTP_PROXY, settings.httpProxyPort());
            proxy.listen(Protocol.TRANSPARENT_TLS, settings.transparentTlsPort());
            proxy.listen(Protocol.TRANSPARENT_HTTP, settings.transparentHttpPort());
            for (RelayRoute route : settings.relays()) {
                proxy.listen(new Relay(route), route.listenPort());
            }
        } catch (IOException e) {
            proxy.close();
            String addresses = settings.bindAddresses().stream().map(InetAddress::getHostAddress)
                    .collect(Collectors.joining(", "));
            throw new CageException("cannot start the egress proxy on " + addresses + ": " + e.getMessage(),
                    "another program may hold the port (one listening on all addresses holds it on the gateway's "
                            + "too, which a TCP relay for an allowed_hosts entry on that port needs); every cage needs "
                            + "its own gateway address", e);
        }
        long tick = Math.max(10, Math.min(1000, Math.min(settings.handshakeTimeout().toMillis(),
                settings.idleTimeout().toMillis()) / 4));
        proxy.watchdog.scheduleWithFixedDelay(proxy.connections::endOverdue, tick, tick, TimeUnit.MILLISECONDS);
        return proxy;
    }

    public int httpProxyPort() {
        return ports.get(Protocol.HTTP_PROXY);
    }

    public int transparentTlsPort() {
        return ports.get(Protocol.TRANSPARENT_TLS);
    }

    public int transparentHttpPort() {
        return ports.get(Protocol.TRANSPARENT_HTTP);
    }

    /** The port this route's relay listens on (the route's own, or the one picked for a route with port 0). */
    public int relayPort(RelayRoute route) {
        Integer port = ports.get(new Relay(route));
        if (port == null) {
            throw new IllegalArgumentException("this proxy has no relay for " + route);
        }
        return port;
    }

    /** Bytes relayed so far, both directions, all connections: what the egress limit counts. */
    public long bytesRelayed() {
        return limits.bytesUsed();
    }

    /** The cage's open connections, this proxy's and its API gateway's. */
    public int openConnections() {
        return limits.openConnections();
    }

    /** Whether the cage passed its egress limit; then the proxy refuses everything. */
    public boolean isCutOff() {
        return limits.isCutOff();
    }

    private void listen(Listener listener, int port) throws IOException {
        int boundPort = port;
        for (InetAddress address : settings.bindAddresses()) {
            ServerSocketChannel server = ServerSocketChannel.open();
            servers.add(server);
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            try {
                server.bind(new InetSocketAddress(address, boundPort), BACKLOG);
            } catch (IOException e) {
                throw new IOException(address.getHostAddress() + " port " + boundPort + " (" + listener.name() + "): "
                        + e.getMessage(), e);
            }
            boundPort = server.socket().getLocalPort();
            Thread acceptor = DaemonThreads.unstarted(
                    "egress-proxy-accept-" + listener.name().toLowerCase(Locale.ROOT) + "-" + address.getHostAddress(),
                    () -> ConnectionDispatch.acceptUntilClosed(server, () -> closed, client -> dispatch(client, listener)));
            acceptors.add(acceptor);
            acceptor.start();
        }
        ports.put(listener, boundPort);
    }

    private void dispatch(SocketChannel client, Listener listener) {
        Connection connection = new Connection(client, settings.handshakeTimeout(), settings.idleTimeout());
        connections.dispatch(connection, () -> serve(connection, listener),
                (status, reason) -> refuse(client, listener, status, reason));
    }

    /** Says no to a connection past a limit; the audit line names what it asked for, when it asks in time. */
    private void refuse(SocketChannel client, Listener listener, int status, String reason) {
        refusals.refuse(client, refused -> {
            ProxyRequest request = readBriefly(refused, listener);
            audit.record(AuditEvent.denied(request == null ? AUDIT_SOURCE : source(request),
                    request == null ? null : request.host(), request == null ? null : request.port(), reason));
            if (request != null) {
                listener.refuse(refused.socket().getOutputStream(), status, request.summary() + " refused: " + reason);
            }
        }, () -> audit.record(AuditEvent.denied(AUDIT_SOURCE, null, null, reason)));
    }

    /** The request of a connection being refused, or null when it is unreadable or too slow to come. */
    private static ProxyRequest readBriefly(SocketChannel client, Listener listener) {
        try {
            return listener.read(new ChannelInput(client));
        } catch (IOException e) {
            return null;
        }
    }

    private void serve(Connection connection, Listener listener) {
        SocketChannel client = connection.client();
        try {
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ChannelInput clientIn = new ChannelInput(client);
            OutputStream clientOut = client.socket().getOutputStream();
            ProxyRequest request;
            try {
                request = listener.read(clientIn);
            } catch (ProtocolException e) {
                audit.record(AuditEvent.denied(AUDIT_SOURCE, null, null, "malformed request: " + e.getMessage()));
                listener.refuse(clientOut, 400, "malformed request: " + e.getMessage());
                return;
            } catch (IOException e) {
                if (connection.ending() == Connection.Ending.HANDSHAKE_TIMEOUT) {
                    audit.record(AuditEvent.denied(AUDIT_SOURCE, null, null, "no complete request within "
                            + words(settings.handshakeTimeout())));
                }
                // Otherwise the client left, or the proxy stopped, before asking for anything.
                return;
            }
            connection.awaitUpstream();
            Gatekeeper.Verdict verdict = gatekeeper.decide(request.host(), request.port());
            if (verdict instanceof Gatekeeper.Denied denied) {
                audit.record(AuditEvent.denied(source(request), request.host(), request.port(), denied.reason()));
                listener.refuse(clientOut, 403, request.summary() + " denied: " + denied.reason());
                return;
            }
            if (verdict instanceof Gatekeeper.Unresolvable unresolvable) {
                audit.record(allowed(request, connection, unresolvable.reason()));
                listener.refuse(clientOut, 502, request.summary() + " failed: " + unresolvable.reason());
                return;
            }
            List<InetAddress> addresses = ((Gatekeeper.Allowed) verdict).addresses();
            SocketChannel upstream;
            try {
                upstream = dialer.connect(addresses, request.port());
            } catch (IOException e) {
                String reason = "cannot connect to " + request.host() + ":" + request.port() + ": " + e.getMessage();
                audit.record(allowed(request, connection, reason));
                listener.refuse(clientOut, 502, request.summary() + " failed: " + reason);
                return;
            }
            if (connection.attachUpstream(upstream)) {
                connection.startRelaying();
                try {
                    relay(connection, request, clientIn, clientOut, upstream);
                } catch (IOException e) {
                    connection.end(endingFor(e), e.getMessage());
                }
            }
            // Free the slot before writing the audit line: a slow disk must not refuse the next request.
            connection.end(Connection.Ending.COMPLETED);
            connections.release(connection);
            audit.record(ended(request, connection));
        } catch (IOException e) {
            // Writing a refusal to a client that already left: there is no one left to tell.
        } finally {
            connection.end(Connection.Ending.COMPLETED);
            connections.release(connection);
        }
    }

    private void relay(Connection connection, ProxyRequest request, ChannelInput clientIn, OutputStream clientOut,
                       SocketChannel upstream) throws IOException {
        upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
        MeteredOutputStream toUpstream = connection.towardUpstream(upstream, limits);
        MeteredOutputStream toClient = connection.towardClient(limits);
        Future<?> downstream;
        if (request instanceof ProxyRequest.Tunnel tunnel) {
            if (tunnel.answerConnect()) {
                clientOut.write(CONNECT_ESTABLISHED);
            }
            downstream = inBackground(connection,
                    () -> pumpThenHalfClose(connection, upstream, toClient, connection.client()));
            try {
                toUpstream.write(tunnel.preamble());
                toUpstream.write(clientIn.takeBuffered());
                pumpThenHalfClose(connection, connection.client(), toUpstream, upstream);
            } catch (IOException e) {
                connection.end(endingFor(e), e.getMessage());
            }
        } else {
            ProxyRequest.Exchange exchange = (ProxyRequest.Exchange) request;
            downstream = inBackground(connection, () -> relayResponse(connection, upstream, clientOut, toClient));
            try {
                toUpstream.write(exchange.head().bytes());
                exchange.body().copy(clientIn, toUpstream);
            } catch (ProtocolException | EOFException | MeteredOutputStream.EgressLimitPassed e) {
                // A malformed or unfinished body: the server holds half a request, so end both.
                connection.end(endingFor(e), e.getMessage());
            } catch (IOException e) {
                // The server may answer before it has read the whole body (413, say) and close:
                // the response still has to reach the client, so only this direction stops.
            }
        }
        awaitQuietly(downstream, connection);
    }

    /** The other direction of a connection, on a thread of its own. */
    private Future<?> inBackground(Connection connection, Runnable direction) {
        try {
            return workers.submit(direction);
        } catch (RejectedExecutionException e) {
            connection.end(Connection.Ending.BROKEN, "the proxy has no thread free for the other direction");
            return CompletableFuture.completedFuture(null);
        }
    }

    /**
     * One direction of a connection, channel to channel through a direct buffer (no copy into
     * the Java heap); at the end of the stream, passes the half-close on.
     */
    private static void pumpThenHalfClose(Connection connection, SocketChannel from, MeteredOutputStream to,
                                          SocketChannel toChannel) {
        ByteBuffer buffer = RELAY_BUFFER.get();
        try {
            buffer.clear();
            while (from.read(buffer) >= 0) {
                buffer.flip();
                to.write(buffer);
                buffer.clear();
            }
            toChannel.shutdownOutput();
        } catch (IOException e) {
            connection.end(endingFor(e), e.getMessage());
        }
    }

    /**
     * The server's answer: interim 1xx responses as they are, then the final head without
     * hop-by-hop fields and with "Connection: close", then the body, to the end of the stream.
     */
    private static void relayResponse(Connection connection, SocketChannel upstream, OutputStream clientOut,
                                      MeteredOutputStream toClient) {
        boolean started = false;
        try {
            ChannelInput in = new ChannelInput(upstream);
            for (int interim = 0; interim <= MAX_INTERIM_RESPONSES; interim++) {
                HttpHead head = HttpHead.read(in);
                int status = statusCode(head.startLine());
                started = true;
                if (status >= 100 && status < 200 && status != 101) {
                    toClient.write(head.bytes());
                    continue;
                }
                toClient.write(head.forOneHop().bytes());
                toClient.write(in.takeBuffered());
                pumpThenHalfClose(connection, upstream, toClient, connection.client());
                return;
            }
            throw new ProtocolException("more than " + MAX_INTERIM_RESPONSES + " interim responses");
        } catch (IOException e) {
            if (!started && !(e instanceof MeteredOutputStream.EgressLimitPassed)) {
                try {
                    respond(clientOut, 502, "the server's response is not HTTP/1.x: " + e.getMessage());
                } catch (IOException clientGone) {
                    // Nobody left to tell.
                }
            }
            connection.end(endingFor(e), e.getMessage());
        }
    }

    private static int statusCode(String statusLine) throws ProtocolException {
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("[0-9]{3}")) {
            throw new ProtocolException("malformed status line: " + UntrustedText.excerpt(statusLine));
        }
        return Integer.parseInt(parts[1]);
    }

    private static void awaitQuietly(Future<?> downstream, Connection connection) {
        try {
            downstream.get();
        } catch (InterruptedException e) {
            connection.end(Connection.Ending.STOPPED);
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            connection.end(Connection.Ending.BROKEN, String.valueOf(e.getCause()));
        }
    }

    private AuditEvent allowed(ProxyRequest request, Connection connection, String reason) {
        return new AuditEvent(Instant.now(), source(request), request.host(), request.port(), AuditEvent.ALLOWED,
                withDuration(request, connection, reason), connection.bytesSent(), connection.bytesReceived());
    }

    /** A TCP relay's lines are their own source: what the cage sent there named no destination. */
    private static String source(ProxyRequest request) {
        return isRelay(request) ? RELAY_AUDIT_SOURCE : AUDIT_SOURCE;
    }

    private static boolean isRelay(ProxyRequest request) {
        return request instanceof ProxyRequest.Tunnel tunnel && tunnel.via() == ProxyRequest.Via.RELAY;
    }

    /** A relay's line says how long the connection lasted, which its bytes alone do not tell of a raw stream. */
    private static String withDuration(ProxyRequest request, Connection connection, String reason) {
        if (!isRelay(request)) {
            return reason;
        }
        String lasted = String.format(Locale.ROOT, "relayed for %.1f s", connection.age().toMillis() / 1000.0);
        return reason == null ? lasted : lasted + "; " + reason;
    }

    /** The line for a connection that was allowed, written when it ends, with its byte counts. */
    private AuditEvent ended(ProxyRequest request, Connection connection) {
        String detail = connection.endingDetail();
        return switch (connection.ending()) {
            case COMPLETED -> allowed(request, connection, null);
            case IDLE -> allowed(request, connection, "closed after " + words(settings.idleTimeout()) + " idle");
            case STOPPED -> allowed(request, connection, "the proxy stopped");
            case BROKEN -> allowed(request, connection, "ended by an error" + (detail == null ? "" : ": " + detail));
            case HANDSHAKE_TIMEOUT -> allowed(request, connection, "closed during the handshake");
            case CUT_OFF -> new AuditEvent(Instant.now(), source(request), request.host(), request.port(),
                    AuditEvent.CUT_OFF, withDuration(request, connection, "the egress limit of "
                    + limits.egressLimitText() + " was passed"), connection.bytesSent(), connection.bytesReceived());
        };
    }

    /** "300 ms", "10 s", "5 min": how a timeout reads in an audit line. */
    private static String words(Duration duration) {
        if (duration.toMillis() % 1000 != 0) {
            return duration.toMillis() + " ms";
        }
        return duration.toSeconds() % 60 != 0 ? duration.toSeconds() + " s" : duration.toMinutes() + " min";
    }


    static void respond(OutputStream out, int status, String message) throws IOException {
        PlainResponse.write(out, status, "claude-cage egress proxy", message);
    }


    /**
     * Stops listening, ends every connection (their audit lines say "the proxy stopped") and
     * waits for their threads, so that every line is written before the audit log is closed.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        servers.forEach(Teardown::closeQuietly);
        for (Thread acceptor : acceptors) {
            join(acceptor);
        }
        connections.endAll(Connection.Ending.STOPPED);
        refusals.close();
        workers.shutdown();
        watchdog.shutdownNow();
        // A connection may be waiting on DNS or on an upstream connect, which closing cannot cut short.
        long graceMillis = STOP_GRACE.plus(settings.connectTimeout()).plus(NameResolver.DEFAULT_TIMEOUT).toMillis();
        awaitTermination(workers, graceMillis);
    }

    private static void awaitTermination(ThreadPoolExecutor pool, long millis) {
        try {
            if (!pool.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join(STOP_GRACE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory threads(String name) {
        ThreadFactory daemons = DaemonThreads.numbered(name);
        return runnable -> {
            Thread thread = daemons.newThread(runnable);
            thread.setUncaughtExceptionHandler(
                    (t, e) -> System.err.println("claude-cage: egress proxy: " + e.getMessage()));
            return thread;
        };
    }

    /** A connection that passed the egress limit was cut off, whichever thread noticed first. */
    private static Connection.Ending endingFor(Exception e) {
        return e instanceof MeteredOutputStream.EgressLimitPassed ? Connection.Ending.CUT_OFF : Connection.Ending.BROKEN;
    }
}
