package dev.claudecage.net.gateway;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.claudecage.CageException;
import dev.claudecage.json.Json;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.http.Counted;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The per-session API gateway: the cage's {@code ANTHROPIC_BASE_URL}. An HTTP/1.1 server on the
 * host side of the cage's link that accepts a request only when it carries the session's
 * {@link PlaceholderKey} (in {@code x-api-key}, or as {@code Authorization: Bearer}), and forwards
 * it to the API upstream with the user's real key in {@code x-api-key}. Bodies stream both ways,
 * flushed on every read, so server-sent events reach the cage as the upstream sends them.
 *
 * <p>The real key is asked for per request from the host side and goes into exactly one place: the
 * upstream request's header. It is never logged, never in an error message or audit line, and any
 * echo of it in a response (headers or body) is masked before the cage sees it. Every request is
 * audited with method, path, status and body bytes each way; never headers.
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
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);
    static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

    /**
     * @param maxConcurrentRequests requests handled at once; more wait their turn
     * @param connectTimeout        to open a connection to the upstream
     * @param responseTimeout       from sending a request upstream to its response headers (not the body,
     *                              which may stream for as long as the upstream keeps sending)
     */
    public record Settings(int maxConcurrentRequests, Duration connectTimeout, Duration responseTimeout) {

        public Settings {
            if (maxConcurrentRequests < 1) {
                throw new IllegalArgumentException("maxConcurrentRequests must be at least 1, not " + maxConcurrentRequests);
            }
            if (connectTimeout.isNegative() || connectTimeout.isZero() || responseTimeout.isNegative()
                    || responseTimeout.isZero()) {
                throw new IllegalArgumentException("gateway timeouts must be positive");
            }
        }

        /** 32 requests at once; 10 s to connect; 15 min to the response headers (a long, unstreamed reply). */
        public static Settings defaults() {
            return new Settings(32, Duration.ofSeconds(10), Duration.ofMinutes(15));
        }
    }

    private final HttpServer server;
    private final ThreadPoolExecutor handlers;
    /** Made on the first request: building it costs a cage's start ~80 ms, and its threads delay the JVM's exit. */
    private HttpClient client;
    private final URI upstream;
    private final String upstreamPrefix;
    private final int upstreamPort;
    private final PlaceholderKey placeholder;
    private final byte[] placeholderBytes;
    private final Supplier<char[]> realKey;
    private final Consumer<AuditEvent> audit;
    private final Settings settings;
    private final AtomicLong bytesFromCage = new AtomicLong();
    private final AtomicLong bytesToCage = new AtomicLong();

    private ApiGateway(HttpServer server, ThreadPoolExecutor handlers, URI upstream, PlaceholderKey placeholder,
                       Supplier<char[]> realKey, Consumer<AuditEvent> audit, Settings settings) {
        this.server = server;
        this.handlers = handlers;
        this.upstream = upstream;
        String text = upstream.toString();
        this.upstreamPrefix = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
        this.upstreamPort = upstream.getPort() >= 0 ? upstream.getPort() : "https".equals(upstream.getScheme()) ? 443 : 80;
        this.placeholder = placeholder;
        this.placeholderBytes = placeholder.value().getBytes(StandardCharsets.US_ASCII);
        this.realKey = realKey;
        this.audit = audit;
        this.settings = settings;
    }

    /** {@link #start(InetSocketAddress, URI, PlaceholderKey, Supplier, Consumer, Settings)} with the default settings. */
    public static ApiGateway start(InetSocketAddress bind, URI upstream, PlaceholderKey placeholder,
                                   Supplier<char[]> realKey, Consumer<AuditEvent> audit) {
        return start(bind, upstream, placeholder, realKey, audit, Settings.defaults());
    }

    /**
     * Starts listening.
     *
     * @param bind        the host side of the cage's link (port 0 for any free port)
     * @param upstream    the API's base URL, http or https, without credentials, query or fragment
     * @param realKey     hands out the user's key, a fresh array per call, which the gateway wipes after use
     * @param audit       takes one event per request, e.g. {@code auditLog::record}
     * @throws CageException when the address cannot be bound, or when this JVM would log HTTP headers
     */
    public static ApiGateway start(InetSocketAddress bind, URI upstream, PlaceholderKey placeholder,
                                   Supplier<char[]> realKey, Consumer<AuditEvent> audit, Settings settings) {
        checkUpstream(upstream);
        refuseHeaderLogging();
        disableNagle();
        HttpServer server;
        try {
            server = HttpServer.create(bind, BACKLOG);
        } catch (IOException e) {
            throw new CageException("cannot listen on " + bind + " for the API gateway: " + e.getMessage(),
                    "another process may hold the port; pick another or stop that process", e);
        }
        AtomicInteger threads = new AtomicInteger();
        ThreadPoolExecutor handlers = new ThreadPoolExecutor(settings.maxConcurrentRequests(),
                settings.maxConcurrentRequests(), 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), runnable -> {
                    Thread thread = new Thread(runnable, "cage-gateway-" + threads.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        handlers.allowCoreThreadTimeOut(true);
        ApiGateway gateway = new ApiGateway(server, handlers, upstream, placeholder, realKey, audit, settings);
        server.createContext("/", exchange -> gateway.new Request(exchange).handle());
        server.setExecutor(handlers);
        server.start();
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
        return server.getAddress();
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

    /** Request body bytes taken from the cage and sent upstream, since start. */
    public long bytesFromCage() {
        return bytesFromCage.get();
    }

    /** Response body bytes sent to the cage, since start. */
    public long bytesToCage() {
        return bytesToCage.get();
    }

    /** Stops listening, closes open exchanges and stops the handler threads. */
    @Override
    public void close() {
        server.stop(0);
        handlers.shutdownNow();
        try {
            handlers.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
     * Turns on TCP_NODELAY for the JDK server's connections. Without it, each small write (the response
     * headers, then a short body; one server-sent event after another) waits for the cage's delayed ACK
     * of the one before: up to 40 ms a time. The JDK reads this property once, when the first HttpServer
     * of the JVM starts, so it must be set before that (the launcher starts no other HttpServer); a value
     * set on the command line wins.
     */
    private static void disableNagle() {
        if (System.getProperty(NODELAY_PROPERTY) == null) {
            System.setProperty(NODELAY_PROPERTY, "true");
        }
    }

    /** The key as a header value, or empty when the host side handed out something a header cannot carry. */
    private Optional<String> realKeyValue() {
        char[] chars = realKey.get();
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

    /** One exchange with the cage, from its request line to the audit line. */
    private final class Request {

        private final HttpExchange exchange;
        private final String method;
        private final String what;
        private final AtomicLong sent = new AtomicLong();
        private long received;

        Request(HttpExchange exchange) {
            this.exchange = exchange;
            this.method = exchange.getRequestMethod();
            String target = exchange.getRequestURI().toString();
            this.what = method + " " + (target.length() > AUDITED_TARGET_CHARS
                    ? target.substring(0, AUDITED_TARGET_CHARS) + "..." : target);
        }

        void handle() throws IOException {
            // Closed here only when the exchange ended cleanly: on a broken stream the handler throws instead,
            // and the server drops the connection, so the cage sees a truncated response, never a complete one.
            boolean clean = false;
            try {
                handleOrThrow();
                clean = true;
            } finally {
                if (clean) {
                    exchange.close();
                }
            }
        }

        private void handleOrThrow() throws IOException {
            Optional<String> credentialProblem = credentialProblem(exchange.getRequestHeaders());
            if (credentialProblem.isPresent()) {
                refuse(401, "authentication_error", "claude-cage gateway: this request does not carry the "
                        + "session's API key", credentialProblem.get());
                return;
            }
            if (!METHODS.contains(method)) {
                refuse(405, "invalid_request_error", "claude-cage gateway: method not supported", "method not supported");
                return;
            }
            URI uri = exchange.getRequestURI();
            if (uri.isAbsolute() || uri.getRawAuthority() != null || uri.getRawPath() == null
                    || !uri.getRawPath().startsWith("/")) {
                refuse(400, "invalid_request_error", "claude-cage gateway: the request target must be a path",
                        "the request target is not a path");
                return;
            }
            Optional<String> key = realKeyValue();
            if (key.isEmpty()) {
                refuse(500, "api_error", "claude-cage gateway: no usable API key on the host side",
                        "no usable API key on the host side");
                return;
            }
            forward(uri, key.get());
        }

        private Optional<String> credentialProblem(Headers headers) {
            List<String> apiKeys = headers.getOrDefault("x-api-key", List.of());
            List<String> authorizations = headers.getOrDefault("authorization", List.of());
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

        private void forward(URI uri, String key) throws IOException {
            String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            BodyPump body = requestBody();
            HttpRequest request;
            try {
                HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(upstreamPrefix + target))
                        .timeout(settings.responseTimeout())
                        .method(method, body == null ? BodyPublishers.noBody() : body);
                copyRequestHeaders(builder);
                builder.setHeader("x-api-key", key);
                builder.setHeader("accept-encoding", "identity");
                request = builder.build();
            } catch (IllegalArgumentException e) {
                // Never e.getMessage(): the JDK quotes rejected header values in it.
                refuse(400, "invalid_request_error", "claude-cage gateway: the request cannot be forwarded",
                        "the request cannot be forwarded (invalid target or header)");
                return;
            }
            CompletableFuture<HttpResponse<InputStream>> pending = client().sendAsync(request, BodyHandlers.ofInputStream());
            HttpResponse<InputStream> response;
            try {
                if (body != null) {
                    pumpRequestBody(body, pending);
                }
                response = pending.get();
            } catch (ExecutionException e) {
                fail(502, "claude-cage gateway: the API upstream did not answer", "upstream failed: " + describe(e.getCause(), key));
                return;
            } catch (InterruptedException e) {
                pending.cancel(true);
                Thread.currentThread().interrupt();
                fail(503, "claude-cage gateway: shutting down", "the gateway is shutting down");
                return;
            }
            relay(response, key);
        }

        /** Streams the cage's body upstream on this thread; stops early if the exchange ends first. */
        private void pumpRequestBody(BodyPump body, CompletableFuture<HttpResponse<InputStream>> pending)
                throws IOException, InterruptedException {
            try {
                body.pump(pending::isDone);
            } catch (IOException e) {
                pending.cancel(true);
                allowed(what + ": the cage broke off its request body");
                throw new BrokenStream(Breakage.CAGE, e);
            }
        }

        /** The cage's body as a streaming publisher, or null when there is none. */
        private BodyPump requestBody() {
            Headers headers = exchange.getRequestHeaders();
            InputStream body = Counted.input(exchange.getRequestBody(), count -> {
                sent.addAndGet(count);
                bytesFromCage.addAndGet(count);
            });
            if (headers.getFirst("transfer-encoding") != null) {
                return new BodyPump(body, -1);
            }
            OptionalLong length = contentLength(headers.getFirst("content-length"));
            return length.isPresent() && length.getAsLong() > 0 ? new BodyPump(body, length.getAsLong()) : null;
        }

        private void copyRequestHeaders(HttpRequest.Builder builder) {
            Headers headers = exchange.getRequestHeaders();
            Set<String> connectionTokens = HeaderRules.connectionTokens(headers.get("connection"));
            for (Map.Entry<String, List<String>> header : headers.entrySet()) {
                if (!HeaderRules.forwardRequestHeader(header.getKey(), connectionTokens)) {
                    continue;
                }
                for (String value : header.getValue()) {
                    try {
                        builder.header(header.getKey(), value);
                    } catch (IllegalArgumentException restricted) {
                        // A header the JDK client will not send (or an invalid value): drop it, as a proxy may.
                    }
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
                copyResponseHeaders(headers, key);
                long length = responseLength(status, headers);
                exchange.sendResponseHeaders(status, length);
                String outcome = what + " " + status;
                if (length < 0) {
                    allowed(outcome);
                    return;
                }
                try {
                    copyBody(body, exchange.getResponseBody(), key);
                    allowed(outcome);
                } catch (BrokenStream e) {
                    allowed(outcome + (e.side == Breakage.CAGE ? ", the cage closed the connection"
                            : ", the upstream broke off: " + describe(e.getCause(), key)));
                    throw e;
                }
            }
        }

        private void copyResponseHeaders(HttpHeaders headers, String key) {
            Set<String> connectionTokens = HeaderRules.connectionTokens(headers.allValues("connection"));
            Headers out = exchange.getResponseHeaders();
            for (Map.Entry<String, List<String>> header : headers.map().entrySet()) {
                if (!HeaderRules.forwardResponseHeader(header.getKey(), connectionTokens) || header.getKey().contains(key)) {
                    continue;
                }
                for (String value : header.getValue()) {
                    if (!value.contains(key)) {
                        out.add(header.getKey(), value);
                    }
                }
            }
        }

        /** For sendResponseHeaders: -1 no body, 0 chunked (length unknown), else the exact length. */
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

        private void copyBody(InputStream from, OutputStream to, String key) throws BrokenStream {
            KeyRedactor redactor = new KeyRedactor(key.getBytes(StandardCharsets.US_ASCII));
            OutputStream counted = Counted.output(to, this::addReceived);
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
                        redactor.finish(counted);
                        counted.flush();
                        return;
                    }
                    redactor.write(buffer, 0, read, counted);
                    // Flush on every read: this is what makes server-sent events arrive as they are sent.
                    counted.flush();
                } catch (IOException e) {
                    throw new BrokenStream(Breakage.CAGE, e);
                }
            }
        }

        /** A request the gateway turns away by policy. */
        private void refuse(int status, String type, String message, String reason) throws IOException {
            respond(status, type, message);
            audit.accept(new AuditEvent(Instant.now(), AUDIT_SOURCE, upstream.getHost(), upstreamPort,
                    AuditEvent.DENIED, what + " " + status + ": " + reason, sent.get(), received));
        }

        /** A request the policy allowed that failed on the way. */
        private void fail(int status, String message, String reason) throws IOException {
            respond(status, "api_error", message);
            allowed(what + " " + status + ": " + reason);
        }

        private void allowed(String reason) {
            audit.accept(new AuditEvent(Instant.now(), AUDIT_SOURCE, upstream.getHost(), upstreamPort,
                    AuditEvent.ALLOWED, reason, sent.get(), received));
        }

        private void respond(int status, String type, String message) throws IOException {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("type", type);
            error.put("message", message);
            byte[] body = Json.writeLine(Map.of("type", "error", "error", error)).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            // The SDK reads this to decide on retries; a refused key will not get better by retrying.
            exchange.getResponseHeaders().set("x-should-retry", status >= 500 ? "true" : "false");
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
            received += body.length;
            bytesToCage.addAndGet(body.length);
        }

        void addReceived(long count) {
            received += count;
            bytesToCage.addAndGet(count);
        }
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
