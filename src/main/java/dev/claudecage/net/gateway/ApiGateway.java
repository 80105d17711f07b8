package dev.claudecage.net.gateway;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.json.Json;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.http.BodyFraming;
import dev.claudecage.net.http.ChunkedOutputStream;
import dev.claudecage.net.http.HttpHead;
import dev.claudecage.net.proxy.Connection;
import dev.claudecage.net.proxy.ConnectionDispatch;
import dev.claudecage.net.proxy.MeteredOutputStream;
import dev.claudecage.net.proxy.ProxySettings;
import dev.claudecage.net.proxy.Refusals;
import dev.claudecage.net.proxy.TrafficLimits;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The per-session API gateway: the cage's {@code ANTHROPIC_BASE_URL}. An HTTP/1.1 server on the
 * host side of the cage's link that accepts a request only when it carries the session's
 * {@link PlaceholderKey} (in {@code x-api-key}, or as {@code Authorization: Bearer}), and forwards
 * it to the API upstream with the user's {@link ApiCredential}: an API key in {@code x-api-key}, or a
 * subscription login's OAuth token as {@code Authorization: Bearer} (with the OAuth beta flag the API
 * asks of such requests). Bodies stream both ways,
 * flushed on every read, so server-sent events reach the cage as the upstream sends them.
 *
 * <p>The real key is asked for per request from the host side and goes into exactly one place: the
 * upstream request's header. It is never logged, never in an error message or audit line, and any
 * echo of it in a response (headers or body) is masked before the cage sees it. Every request is
 * audited with method, path, status and body bytes each way; never headers.
 *
 * <p>The cage's limits hold here as in the proxy, with which the gateway shares them
 * ({@link TrafficLimits}): its connections count against max_connections (one more is refused at
 * once with 429, never queued), its bodies both ways against egress_limit (past it the cage is cut
 * off, here and in the proxy), a request head must arrive within the head timeout, and a body or a
 * response that stops for the idle timeout ends its connection. One request per connection; each
 * is handled the moment it arrives, and one whose client has left by the time it would be sent is
 * not sent.
 */
public final class ApiGateway implements AutoCloseable {

    /** The {@code source} of this gateway's audit events. */
    public static final String AUDIT_SOURCE = "gateway";

    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    private static final int AUDITED_TARGET_CHARS = 256;
    private static final int COPY_BUFFER_BYTES = 16 * 1024;
    private static final int MIN_KEY_CHARS = 8;
    private static final int MAX_KEY_CHARS = 1024;
    private static final int BACKLOG = 128;
    /** Threads beyond the connection cap, for connections that freed their slot and still write their audit line. */
    private static final int WORKER_HEADROOM = 8;
    /** How often the gateway looks whether the cage is still there while the upstream prepares its answer. */
    private static final Duration DEPARTURE_CHECK = Duration.ofMillis(100);
    /** What the gateway reads of a request it has answered without reading it, so that the answer is not reset away. */
    private static final int DRAIN_BYTES = 64 * 1024;
    private static final int DRAIN_MILLIS = 1000;
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);

    /**
     * @param headTimeout     for the cage to send a whole request head
     * @param idleTimeout     a request body or a response with no byte in either direction for this long ends
     * @param connectTimeout  to open a connection to the upstream
     * @param responseTimeout from sending a request upstream to its response headers (not the body,
     *                        which may stream for as long as the upstream keeps sending)
     */
    public record Settings(Duration headTimeout, Duration idleTimeout, Duration connectTimeout, Duration responseTimeout) {

        public Settings {
            for (Duration timeout : List.of(headTimeout, idleTimeout, connectTimeout, responseTimeout)) {
                if (timeout.isNegative() || timeout.isZero()) {
                    throw new IllegalArgumentException("gateway timeouts must be positive, not " + timeout);
                }
            }
        }

        /**
         * The proxy's head and idle timeouts (10 s, 5 min); 10 s to connect; 15 min to the response
         * headers (a long, unstreamed reply).
         */
        public static Settings defaults() {
            return new Settings(ProxySettings.DEFAULT_HANDSHAKE_TIMEOUT, ProxySettings.DEFAULT_IDLE_TIMEOUT,
                    Duration.ofSeconds(10), Duration.ofMinutes(15));
        }

        public Settings withHeadTimeout(Duration timeout) {
            return new Settings(timeout, idleTimeout, connectTimeout, responseTimeout);
        }

        public Settings withIdleTimeout(Duration timeout) {
            return new Settings(headTimeout, timeout, connectTimeout, responseTimeout);
        }
    }

    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final ThreadPoolExecutor workers;
    private final Refusals refusals = new Refusals("cage-gateway-refusal");
    private final ScheduledExecutorService watchdog;
    private final TrafficLimits limits;
    private final ConnectionDispatch connections;
    /** Made on the first request: building it costs a cage's start ~80 ms, and its threads delay the JVM's exit. */
    private HttpClient client;
    private final URI upstream;
    private final String upstreamPrefix;
    private final int upstreamPort;
    private final PlaceholderKey placeholder;
    private final byte[] placeholderBytes;
    private final ApiCredential credential;
    private final Consumer<AuditEvent> audit;
    private final Settings settings;
    private volatile boolean closed;

    private ApiGateway(ServerSocketChannel server, URI upstream, PlaceholderKey placeholder, ApiCredential credential,
                       Consumer<AuditEvent> audit, TrafficLimits limits, Settings settings) {
        this.server = server;
        this.upstream = upstream;
        String text = upstream.toString();
        this.upstreamPrefix = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
        this.upstreamPort = upstream.getPort() >= 0 ? upstream.getPort() : "https".equals(upstream.getScheme()) ? 443 : 80;
        this.placeholder = placeholder;
        this.placeholderBytes = placeholder.value().getBytes(StandardCharsets.US_ASCII);
        this.credential = credential;
        this.audit = audit;
        this.limits = limits;
        this.settings = settings;
        this.workers = new ThreadPoolExecutor(0, limits.maxConnections() + WORKER_HEADROOM, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), DaemonThreads.numbered("cage-gateway"));
        this.connections = new ConnectionDispatch("the gateway", limits, workers);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(DaemonThreads.numbered("cage-gateway-watchdog"));
        this.acceptor = DaemonThreads.numbered("cage-gateway-accept").newThread(
                () -> ConnectionDispatch.acceptUntilClosed(server, () -> closed, this::dispatch));
    }

    /** A gateway that adds the API key {@code realKey} hands out (a fresh array per call, wiped after use). */
    public static ApiGateway start(InetSocketAddress bind, URI upstream, PlaceholderKey placeholder,
                                   Supplier<char[]> realKey, Consumer<AuditEvent> audit, TrafficLimits limits,
                                   Settings settings) {
        return start(bind, upstream, placeholder, ApiCredential.apiKey(realKey, "an API key"), audit, limits, settings);
    }

    /**
     * Starts listening.
     *
     * @param bind       the host side of the cage's link (port 0 for any free port)
     * @param upstream   the API's base URL, http or https, without credentials, query or fragment
     * @param credential the user's API key or OAuth token, which the gateway adds to each request it forwards
     * @param audit      takes one event per request, e.g. {@code auditLog::record}
     * @param limits     the cage's limits, which its proxy shares
     * @throws CageException when the address cannot be bound, or when this JVM would log HTTP headers
     */
    public static ApiGateway start(InetSocketAddress bind, URI upstream, PlaceholderKey placeholder,
                                   ApiCredential credential, Consumer<AuditEvent> audit, TrafficLimits limits,
                                   Settings settings) {
        checkUpstream(upstream);
        refuseHeaderLogging();
        ServerSocketChannel server;
        try {
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(bind, BACKLOG);
        } catch (IOException e) {
            throw new CageException("cannot listen on " + bind + " for the API gateway: " + e.getMessage(),
                    "another process may hold the port; pick another or stop that process", e);
        }
        ApiGateway gateway = new ApiGateway(server, upstream, placeholder, credential, audit, limits, settings);
        long tick = Math.max(10, Math.min(1000, Math.min(settings.headTimeout().toMillis(),
                settings.idleTimeout().toMillis()) / 4));
        gateway.watchdog.scheduleWithFixedDelay(gateway.connections::endOverdue, tick, tick, TimeUnit.MILLISECONDS);
        gateway.acceptor.start();
        return gateway;
    }

    private synchronized HttpClient client() {
        if (client == null) {
            client = newClient();
        }
        return client;
    }

    private HttpClient newClient() {
        return HttpClient.newBuilder()
                // A redirect would carry the real key to wherever the upstream points; the cage gets the 3xx instead.
                .followRedirects(HttpClient.Redirect.NEVER)
                // h2 over TLS when the upstream offers it; plain http stays HTTP/1.1 (no h2c upgrade dance).
                .version("https".equals(upstream.getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.connectTimeout())
                .build();
    }

    /** The address the gateway listens on, with the port it got. */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("the gateway's socket is closed", e);
        }
    }

    /** The cage's {@code ANTHROPIC_BASE_URL}: {@code http://ADDRESS:PORT}, IPv6 in brackets. */
    public URI baseUrl() {
        InetSocketAddress address = address();
        String host = address.getAddress().getHostAddress();
        int scope = host.indexOf('%');
        try {
            return new URI("http", null, scope < 0 ? host : host.substring(0, scope), address.getPort(), null, null, null);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("no URL for " + address, e);
        }
    }

    public PlaceholderKey placeholder() {
        return placeholder;
    }

    public URI upstream() {
        return upstream;
    }

    /** Stops listening, ends every open connection and stops the threads. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // Closing is all that is left to do with it.
        }
        try {
            acceptor.join(STOP_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connections.endAll(Connection.Ending.STOPPED);
        refusals.close();
        watchdog.shutdownNow();
        workers.shutdownNow();
        try {
            workers.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Serves the connection at once, on a thread of its own, or refuses it at once: nothing waits in a queue. */
    private void dispatch(SocketChannel cage) {
        Connection connection = new Connection(cage, settings.headTimeout(), settings.idleTimeout());
        connections.dispatch(connection, () -> serve(connection), (status, reason) -> refuse(cage, status, reason));
    }

    /**
     * Says no to a connection past a limit (429, too many; 403, cut off); the audit line names its request
     * when it comes in time.
     */
    private void refuse(SocketChannel cage, int status, String reason) {
        String type = status == 429 ? "rate_limit_error" : "permission_error";
        refusals.refuse(cage, refused -> {
            String what;
            try {
                what = whatIsAsked(HttpHead.read(new BufferedInputStream(refused.socket().getInputStream())));
            } catch (IOException e) {
                what = null;
            }
            record(AuditEvent.DENIED, (what == null ? "" : what + " " + status + ": ") + reason, null, null);
            if (what != null) {
                OutputStream out = refused.socket().getOutputStream();
                writeError(out, status, type, "claude-cage gateway: " + reason);
                out.flush();
                drain(refused);
            }
        }, () -> record(AuditEvent.DENIED, reason, null, null));
    }

    private void serve(Connection connection) {
        try {
            connection.client().setOption(StandardSocketOptions.TCP_NODELAY, true);
            new Request(connection).handle();
            drain(connection.client());
        } catch (IOException e) {
            // The cage left, or the gateway stopped; the request has written its audit line where there was one.
        } finally {
            connection.end(Connection.Ending.COMPLETED);
            connections.release(connection);
        }
    }

    /**
     * Ends the answer and reads, briefly, what the cage still sends (a body the gateway answered
     * without reading), before the connection is closed: closing with unread bytes would reset it,
     * and the cage could lose the answer.
     */
    private static void drain(SocketChannel cage) {
        try {
            cage.shutdownOutput();
            cage.socket().setSoTimeout(DRAIN_MILLIS);
            InputStream in = cage.socket().getInputStream();
            byte[] buffer = new byte[COPY_BUFFER_BYTES];
            long drained = 0;
            while (drained < DRAIN_BYTES) {
                int read = in.read(buffer);
                if (read < 0) {
                    return;
                }
                drained += read;
            }
        } catch (IOException e) {
            // Gone, or too slow: the connection is closed either way.
        }
    }

    private static void checkUpstream(URI upstream) {
        if (!("https".equals(upstream.getScheme()) || "http".equals(upstream.getScheme())) || upstream.getHost() == null
                || upstream.getUserInfo() != null || upstream.getRawQuery() != null || upstream.getRawFragment() != null) {
            throw new CageException("the API upstream " + upstream + " is not an http or https URL of a host without "
                    + "credentials, query or fragment", "set api_upstream to e.g. " + EgressPolicy.ANTHROPIC_API);
        }
    }

    /**
     * The JDK's HTTP client can log request headers, which would put the real key in the launcher's
     * output. Refuse to run a gateway in a JVM configured to do so rather than trust nobody looks.
     */
    private static void refuseHeaderLogging() {
        String log = System.getProperty("jdk.httpclient.HttpClient.log", "").toLowerCase(Locale.ROOT);
        boolean logsHeaders = log.contains("headers") || log.contains("all") || log.contains("frames")
                || log.contains("content") || log.contains("trace");
        if (logsHeaders || Boolean.getBoolean("jdk.internal.httpclient.debug")
                || Boolean.getBoolean("jdk.internal.httpclient.hpack.debug")) {
            throw new CageException("the API gateway will not run while the JDK HTTP client logs headers or frames "
                    + "(jdk.httpclient.HttpClient.log or jdk.internal.httpclient.debug is set): the log would hold the API key",
                    "unset those system properties");
        }
    }

    /**
     * The credential as a header value, or empty when the host side handed out something a header cannot carry.
     *
     * @throws CageException when the host side has no credential now, saying why (an expired login)
     */
    private Optional<String> realKeyValue() {
        char[] chars = credential.secret().get();
        if (chars == null) {
            return Optional.empty();
        }
        try {
            if (chars.length < MIN_KEY_CHARS || chars.length > MAX_KEY_CHARS) {
                return Optional.empty();
            }
            for (char c : chars) {
                // Printable ASCII without spaces: what API keys are made of, and safe in a header.
                if (c < 0x21 || c > 0x7e) {
                    return Optional.empty();
                }
            }
            return Optional.of(new String(chars));
        } finally {
            Arrays.fill(chars, '\0');
        }
    }

    private boolean isPlaceholder(String presented) {
        return MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), placeholderBytes);
    }

    private static String mask(String text, String key) {
        return text.replace(key, String.valueOf((char) KeyRedactor.MASK).repeat(key.length()));
    }

    /** "METHOD TARGET" of a request head, the target cut for the audit line. */
    private static String whatIsAsked(HttpHead head) {
        String[] parts = head.startLine().split(" ", 3);
        String target = parts.length > 1 ? parts[1] : "";
        return parts[0] + " " + (target.length() > AUDITED_TARGET_CHARS
                ? target.substring(0, AUDITED_TARGET_CHARS) + "..." : target);
    }

    private void record(String decision, String reason, Long sent, Long received) {
        audit.accept(new AuditEvent(Instant.now(), AUDIT_SOURCE, upstream.getHost(), upstreamPort, decision, reason, sent,
                received));
    }

    /** Where a stream stopped before its end. */
    private enum Breakage { UPSTREAM, CAGE }

    private static final class BrokenStream extends IOException {
        private static final long serialVersionUID = 1L;
        private final Breakage side;

        BrokenStream(Breakage side, IOException cause) {
            super(side.name(), cause);
            this.side = side;
        }
    }

    /** One exchange with the cage, from its request head to the audit line. */
    private final class Request {

        private final Connection connection;
        private final CageInput in;
        private final OutputStream out;
        private HttpHead head;
        private String method = "";
        private boolean http10;
        private String what = "";

        Request(Connection connection) throws IOException {
            this.connection = connection;
            this.in = new CageInput(connection.client());
            this.out = connection.client().socket().getOutputStream();
        }

        void handle() throws IOException {
            try {
                head = HttpHead.read(in);
            } catch (ProtocolException e) {
                refuseMalformed(e);
                return;
            } catch (IOException e) {
                if (connection.ending() == Connection.Ending.HANDSHAKE_TIMEOUT) {
                    record(AuditEvent.DENIED, "no complete request head within " + words(settings.headTimeout()), 0L, 0L);
                }
                // Otherwise the cage left, or the gateway stopped, before asking for anything.
                return;
            }
            connection.awaitUpstream();
            String[] parts = head.startLine().split(" ", -1);
            method = parts[0];
            what = whatIsAsked(head);
            if (parts.length != 3 || !(parts[2].equals("HTTP/1.1") || parts[2].equals("HTTP/1.0"))) {
                refuse(400, "invalid_request_error", "claude-cage gateway: malformed request line",
                        "malformed request line");
                return;
            }
            http10 = parts[2].equals("HTTP/1.0");
            handleOrThrow(parts[1]);
        }

        private void handleOrThrow(String target) throws IOException {
            Optional<String> credentialProblem = credentialProblem(head);
            if (credentialProblem.isPresent()) {
                refuse(401, "authentication_error", "claude-cage gateway: this request does not carry the "
                        + "session's API key", credentialProblem.get());
                return;
            }
            if (!METHODS.contains(method)) {
                refuse(405, "invalid_request_error", "claude-cage gateway: method not supported", "method not supported");
                return;
            }
            URI uri;
            try {
                uri = new URI(target);
            } catch (URISyntaxException e) {
                uri = null;
            }
            if (uri == null || uri.isAbsolute() || uri.getRawAuthority() != null || uri.getRawPath() == null
                    || !uri.getRawPath().startsWith("/")) {
                refuse(400, "invalid_request_error", "claude-cage gateway: the request target must be a path",
                        "the request target is not a path");
                return;
            }
            BodyFraming framing;
            try {
                framing = BodyFraming.of(head);
            } catch (ProtocolException e) {
                refuseMalformed(e);
                return;
            }
            Optional<String> key;
            try {
                key = realKeyValue();
            } catch (CageException e) {
                String why = e.getMessage() + (e.hint() == null ? "" : "; " + e.hint());
                refuse(401, "authentication_error", "claude-cage gateway: " + why, why);
                return;
            }
            if (key.isEmpty()) {
                refuse(500, "api_error", "claude-cage gateway: no usable API key on the host side",
                        "no usable API key on the host side");
                return;
            }
            forward(uri, framing, key.get());
        }

        private Optional<String> credentialProblem(HttpHead headers) {
            List<String> apiKeys = headers.values("x-api-key");
            List<String> authorizations = headers.values("authorization");
            if (apiKeys.isEmpty() && authorizations.isEmpty()) {
                return Optional.of("no API key (x-api-key or Authorization: Bearer)");
            }
            // Every credential presented must be the placeholder: never forward a request that carries another.
            for (String value : apiKeys) {
                if (!isPlaceholder(value)) {
                    return Optional.of("x-api-key is not the session's placeholder key");
                }
            }
            for (String value : authorizations) {
                boolean bearer = value.regionMatches(true, 0, "Bearer ", 0, 7);
                if (!bearer || !isPlaceholder(value.substring(7))) {
                    return Optional.of("Authorization is not Bearer with the session's placeholder key");
                }
            }
            return Optional.empty();
        }

        private void forward(URI uri, BodyFraming framing, String key) throws IOException {
            String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            boolean hasBody = framing.chunked() || framing.contentLength() > 0;
            BodyPump body = hasBody ? new BodyPump(connection.fromClient(framing.open(in), limits),
                    framing.chunked() ? -1 : framing.contentLength()) : null;
            HttpRequest request;
            try {
                HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(upstreamPrefix + target))
                        .timeout(settings.responseTimeout())
                        .method(method, body == null ? BodyPublishers.noBody() : body);
                copyRequestHeaders(builder);
                switch (credential.kind()) {
                    case API_KEY -> builder.setHeader("x-api-key", key);
                    case OAUTH_TOKEN -> builder.setHeader("authorization", "Bearer " + key)
                            .setHeader("anthropic-beta", HeaderRules.withOAuthBeta(head.values("anthropic-beta")));
                }
                builder.setHeader("accept-encoding", "identity");
                request = builder.build();
            } catch (IllegalArgumentException e) {
                // Never e.getMessage(): the JDK quotes rejected header values in it.
                refuse(400, "invalid_request_error", "claude-cage gateway: the request cannot be forwarded",
                        "the request cannot be forwarded (invalid target or header)");
                return;
            }
            if (hasBody && head.values("Expect").stream().anyMatch(value -> value.equalsIgnoreCase("100-continue"))) {
                // The expectation is answered here; the upstream gets the body as it comes.
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            if (in.closedWithoutWaiting()) {
                allowed(what + ": the cage closed the connection before the request was sent; nothing was sent upstream");
                return;
            }
            if (limits.isCutOff()) {
                refuse(403, "permission_error", "claude-cage gateway: the egress limit of " + limits.egressLimitText()
                        + " was passed; this cage is cut off", "the egress limit of " + limits.egressLimitText()
                        + " was passed; this cage is cut off");
                return;
            }
            CompletableFuture<HttpResponse<InputStream>> pending = client().sendAsync(request, BodyHandlers.ofInputStream());
            // Ending the connection (a cut-off, the watchdog, the gateway stopping) ends the upstream exchange too.
            if (!connection.attachUpstream(() -> pending.cancel(true))) {
                endedBeforeTheAnswer();
                return;
            }
            HttpResponse<InputStream> response;
            try {
                if (body != null) {
                    connection.startRelaying();
                    pumpRequestBody(body, pending);
                }
                connection.awaitUpstream();
                response = awaitResponse(pending);
            } catch (ExecutionException e) {
                fail(502, "claude-cage gateway: the API upstream did not answer", "upstream failed: " + describe(e.getCause(), key));
                return;
            } catch (InterruptedException e) {
                pending.cancel(true);
                Thread.currentThread().interrupt();
                fail(503, "claude-cage gateway: shutting down", "the gateway is shutting down");
                return;
            }
            if (response == null) {
                pending.cancel(true);
                endedBeforeTheAnswer();
                return;
            }
            connection.startRelaying();
            relay(response, key);
        }

        /** The audit line of a request whose upstream exchange was cancelled before it answered, and why. */
        private void endedBeforeTheAnswer() {
            switch (connection.ending()) {
                case CUT_OFF -> record(AuditEvent.CUT_OFF, what + ": the egress limit of " + limits.egressLimitText()
                        + " was passed", connection.bytesSent(), connection.bytesReceived());
                case STOPPED -> allowed(what + ": the gateway stopped");
                default -> allowed(what + ": the cage closed the connection before the answer came; the upstream "
                        + "request was cancelled");
            }
        }

        /**
         * The upstream's response head; null when the exchange was cancelled (a cut-off, the gateway
         * stopping) or the cage left while it waited for it.
         */
        private HttpResponse<InputStream> awaitResponse(CompletableFuture<HttpResponse<InputStream>> pending)
                throws ExecutionException, InterruptedException, IOException {
            while (true) {
                try {
                    return pending.get(DEPARTURE_CHECK.toMillis(), TimeUnit.MILLISECONDS);
                } catch (CancellationException cancelled) {
                    return null;
                } catch (TimeoutException notYet) {
                    if (connection.ending() != Connection.Ending.COMPLETED || in.closedWithoutWaiting()) {
                        return null;
                    }
                }
            }
        }

        /** Streams the cage's body upstream on this thread; stops early if the exchange ends first. */
        private void pumpRequestBody(BodyPump body, CompletableFuture<HttpResponse<InputStream>> pending)
                throws IOException, InterruptedException {
            try {
                body.pump(pending::isDone);
            } catch (MeteredOutputStream.EgressLimitPassed e) {
                pending.cancel(true);
                record(AuditEvent.CUT_OFF, what + ": the egress limit of " + limits.egressLimitText() + " was passed",
                        connection.bytesSent(), connection.bytesReceived());
                throw new BrokenStream(Breakage.CAGE, e);
            } catch (IOException e) {
                pending.cancel(true);
                allowed(what + ": the cage broke off its request body");
                throw new BrokenStream(Breakage.CAGE, e);
            }
        }

        private void copyRequestHeaders(HttpRequest.Builder builder) {
            Set<String> connectionTokens = HeaderRules.connectionTokens(head.values("connection"));
            for (HttpHead.Header header : head.headers()) {
                if (!HeaderRules.forwardRequestHeader(header.name(), connectionTokens)) {
                    continue;
                }
                try {
                    builder.header(header.name(), header.value());
                } catch (IllegalArgumentException restricted) {
                    // A header the JDK client will not send (or an invalid value): drop it, as a proxy may.
                }
            }
        }

        private void relay(HttpResponse<InputStream> response, String key) throws IOException {
            try (InputStream body = response.body()) {
                int status = response.statusCode();
                HttpHeaders headers = response.headers();
                Optional<String> encoding = headers.firstValue("content-encoding");
                if (encoding.isPresent() && !"identity".equalsIgnoreCase(encoding.get().trim())) {
                    fail(502, "claude-cage gateway: the API upstream sent a compressed body, which the gateway "
                            + "cannot check", "upstream sent a compressed body despite Accept-Encoding: identity");
                    return;
                }
                long length = responseLength(status, headers);
                OutputStream bodyOut = sendHead(status, responseHeaders(headers, key), length);
                String outcome = what + " " + status;
                try {
                    if (bodyOut != null) {
                        copyBody(body, bodyOut, key);
                    }
                    allowed(outcome);
                } catch (MeteredOutputStream.EgressLimitPassed e) {
                    record(AuditEvent.CUT_OFF, outcome + ": the egress limit of " + limits.egressLimitText()
                            + " was passed", connection.bytesSent(), connection.bytesReceived());
                    throw e;
                } catch (BrokenStream e) {
                    allowed(outcome + (e.side == Breakage.CAGE ? ", the cage closed the connection"
                            : ", the upstream broke off: " + describe(e.getCause(), key)));
                    throw e;
                }
            }
        }

        private List<HttpHead.Header> responseHeaders(HttpHeaders headers, String key) {
            Set<String> connectionTokens = HeaderRules.connectionTokens(headers.allValues("connection"));
            List<HttpHead.Header> kept = new ArrayList<>();
            for (Map.Entry<String, List<String>> header : headers.map().entrySet()) {
                if (!HeaderRules.forwardResponseHeader(header.getKey(), connectionTokens) || header.getKey().contains(key)) {
                    continue;
                }
                for (String value : header.getValue()) {
                    if (!value.contains(key)) {
                        kept.add(new HttpHead.Header(header.getKey(), value));
                    }
                }
            }
            return kept;
        }

        /** -1 no body, 0 length unknown (chunked), else the exact length. */
        private long responseLength(int status, HttpHeaders headers) {
            if ("HEAD".equals(method) || status == 204 || status == 304 || status < 200) {
                return -1;
            }
            OptionalLong length = contentLength(headers.firstValue("content-length").orElse(null));
            if (length.isEmpty()) {
                return 0;
            }
            return length.getAsLong() == 0 ? -1 : length.getAsLong();
        }

        /**
         * Writes the response head with its framing, and returns where the body goes (charged to the
         * egress budget, then framed), or null when there is none.
         */
        private OutputStream sendHead(int status, List<HttpHead.Header> headers, long length) throws IOException {
            List<HttpHead.Header> all = new ArrayList<>(headers);
            boolean chunked = length == 0 && !http10;
            if (length > 0) {
                all.add(new HttpHead.Header("Content-Length", Long.toString(length)));
            } else if (chunked) {
                all.add(new HttpHead.Header("Transfer-Encoding", "chunked"));
            } else if (length < 0 && !"HEAD".equals(method) && status >= 200 && status != 204 && status != 304) {
                all.add(new HttpHead.Header("Content-Length", "0"));
            }
            all.add(new HttpHead.Header("Connection", "close"));
            out.write(new HttpHead("HTTP/1.1 " + status + " " + reasonPhrase(status), all).bytes());
            out.flush();
            if (length < 0) {
                return null;
            }
            // An HTTP/1.0 client without a length reads to the end of the connection.
            OutputStream framed = chunked ? new ChunkedOutputStream(out) : out;
            return new BufferedOutputStream(connection.towardClient(Channels.newChannel(framed), limits), COPY_BUFFER_BYTES) {
                @Override
                public void close() throws IOException {
                    flush();
                    if (framed instanceof ChunkedOutputStream chunks) {
                        chunks.finish();
                    }
                }
            };
        }

        private void copyBody(InputStream from, OutputStream to, String key) throws IOException {
            KeyRedactor redactor = new KeyRedactor(key.getBytes(StandardCharsets.US_ASCII));
            byte[] buffer = new byte[COPY_BUFFER_BYTES];
            while (true) {
                int read;
                try {
                    read = from.read(buffer);
                } catch (IOException e) {
                    throw new BrokenStream(Breakage.UPSTREAM, e);
                }
                try {
                    if (read < 0) {
                        redactor.finish(to);
                        to.close();
                        return;
                    }
                    redactor.write(buffer, 0, read, to);
                    // Flush on every read: this is what makes server-sent events arrive as they are sent.
                    to.flush();
                } catch (MeteredOutputStream.EgressLimitPassed e) {
                    throw e;
                } catch (IOException e) {
                    throw new BrokenStream(Breakage.CAGE, e);
                }
            }
        }

        /** A request the gateway turns away by policy. */
        private void refuseMalformed(ProtocolException e) throws IOException {
            refuse(400, "invalid_request_error", "claude-cage gateway: malformed request", "malformed request: " + e.getMessage());
        }

        private void refuse(int status, String type, String message, String reason) throws IOException {
            respond(status, type, message);
            record(AuditEvent.DENIED, outcome(status, reason), connection.bytesSent(), connection.bytesReceived());
        }

        /** A request the policy allowed that failed on the way. */
        private void fail(int status, String message, String reason) throws IOException {
            respond(status, "api_error", message);
            allowed(outcome(status, reason));
        }

        /** "METHOD TARGET STATUS: REASON", or without the request when its head could not be read. */
        private String outcome(int status, String reason) {
            return (what.isEmpty() ? "" : what + " ") + status + ": " + reason;
        }

        private void allowed(String reason) {
            record(AuditEvent.ALLOWED, reason, connection.bytesSent(), connection.bytesReceived());
        }

        private void respond(int status, String type, String message) throws IOException {
            writeError(out, status, type, message);
            out.flush();
        }

    }

    /** An Anthropic-shaped JSON error, with the headers the SDK reads to decide on retries. */
    private static void writeError(OutputStream out, int status, String type, String message) throws IOException {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", type);
        error.put("message", message);
        byte[] body = Json.writeLine(Map.of("type", "error", "error", error)).getBytes(StandardCharsets.UTF_8);
        List<HttpHead.Header> headers = new ArrayList<>(List.of(
                new HttpHead.Header("Content-Type", "application/json"),
                new HttpHead.Header("Content-Length", Integer.toString(body.length)),
                // A refused key will not get better by retrying; a full connection table will, soon.
                new HttpHead.Header("x-should-retry", status >= 500 || status == 429 ? "true" : "false"),
                new HttpHead.Header("Connection", "close")));
        if (status == 429) {
            headers.add(new HttpHead.Header("Retry-After", "1"));
        }
        out.write(new HttpHead("HTTP/1.1 " + status + " " + reasonPhrase(status), headers).bytes());
        out.write(body);
    }

    private static String reasonPhrase(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "";
        };
    }

    /** "300 ms", "10 s", "5 min": how a timeout reads in an audit line. */
    private static String words(Duration duration) {
        if (duration.toMillis() % 1000 != 0) {
            return duration.toMillis() + " ms";
        }
        return duration.toSeconds() % 60 != 0 ? duration.toSeconds() + " s" : duration.toMinutes() + " min";
    }

    private static OptionalLong contentLength(String value) {
        if (value == null) {
            return OptionalLong.empty();
        }
        try {
            long length = Long.parseLong(value.trim());
            return length < 0 ? OptionalLong.empty() : OptionalLong.of(length);
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** An exception for an audit line: its type and message, with any trace of the key masked. */
    private static String describe(Throwable e, String key) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + mask(message, key));
    }

}
