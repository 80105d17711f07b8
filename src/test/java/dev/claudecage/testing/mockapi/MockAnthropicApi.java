package dev.claudecage.testing.mockapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the Anthropic Messages API, for tests: {@code POST /v1/messages} (a JSON message, or
 * server-sent events when the request says {@code "stream": true}) and {@code POST /v1/messages/count_tokens}.
 *
 * <p>It plays a {@link Script}. A request that offers tools (the agent's own loop) gets the script's turn
 * at the position of the conversation: the number of assistant messages the request already holds, so a
 * retried request gets the same turn again. A request without tools (a side request: a title, a quota
 * check) gets {@link #SIDE_REPLY} and does not touch the script. After the script's last turn, every
 * turn is its final text.
 *
 * <p>Every request is recorded, with its headers (the key it carried) and body: {@link #requests()},
 * {@link #keysSeen()}, and, when asked, as JSON lines in a file.
 */
public final class MockAnthropicApi implements AutoCloseable {

    public static final String SIDE_REPLY = "OK.";

    static {
        // Like the gateway: no Nagle on the JDK server's sockets (read once per JVM, by the first server).
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int DELTA_CHARS = 24;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Script script;
    private final Duration eventDelay;
    private final String expectedKey;
    private final Writer record;
    private final List<RecordedRequest> requests = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    private MockAnthropicApi(Builder builder) throws IOException {
        this.script = builder.script;
        this.eventDelay = builder.eventDelay;
        this.expectedKey = builder.expectedKey;
        this.record = builder.recordFile == null ? null : Files.newBufferedWriter(builder.recordFile,
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        this.server = HttpServer.create(builder.bind, 64);
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "mock-anthropic-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** On 127.0.0.1, any free port, playing this script. */
    public static MockAnthropicApi start(Script script) {
        return builder().script(script).start();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    public URI baseUrl() {
        InetSocketAddress address = address();
        String host = address.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort());
    }

    /** Every request so far, oldest first. */
    public synchronized List<RecordedRequest> requests() {
        return List.copyOf(requests);
    }

    /** Every request since the last call, oldest first; a test shared by several cages takes each one's. */
    public synchronized List<RecordedRequest> takeRequests() {
        List<RecordedRequest> taken = List.copyOf(requests);
        requests.clear();
        return taken;
    }

    /** The key each request carried (x-api-key, else Authorization: Bearer), in order; requests without one are left out. */
    public synchronized List<String> keysSeen() {
        return requests.stream().map(RecordedRequest::key).flatMap(Optional::stream).toList();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (record != null) {
                try {
                    record.close();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot close the mock API's record", e);
                }
            }
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String target = exchange.getRequestURI().toString();
            String path = exchange.getRequestURI().getPath();
            Reply reply = reply(exchange, path, body);
            save(new RecordedRequest(Instant.now(), exchange.getRequestMethod(), target, exchange.getRequestHeaders(),
                    body, reply.description()));
            reply.send(exchange);
        }
    }

    private Reply reply(HttpExchange exchange, String path, String body) {
        if (!"/v1/messages".equals(path) && !"/v1/messages/count_tokens".equals(path)) {
            return Reply.error(404, "not_found_error", "no such endpoint: " + path);
        }
        if (!"POST".equals(exchange.getRequestMethod())) {
            return Reply.error(405, "invalid_request_error", "use POST");
        }
        if (expectedKey != null && !expectedKey.equals(exchange.getRequestHeaders().getFirst("x-api-key"))) {
            return Reply.error(401, "authentication_error", "invalid x-api-key");
        }
        JsonNode request;
        try {
            request = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            return Reply.error(400, "invalid_request_error", "the body is not JSON");
        }
        if (request == null || !request.isObject() || !request.path("messages").isArray()) {
            return Reply.error(400, "invalid_request_error", "messages: field required");
        }
        int inputTokens = Math.max(1, body.length() / 4);
        if (path.endsWith("/count_tokens")) {
            return Reply.json(200, ordered("input_tokens", inputTokens), "count_tokens");
        }
        String model = request.path("model").asText("claude-mock");
        Turn turn;
        String description;
        if (request.path("tools").isArray() && request.path("tools").size() > 0) {
            int position = assistantTurns(request.path("messages"));
            turn = script.turn(position);
            description = "turn " + position + ": " + describe(turn);
        } else {
            turn = Turn.text(SIDE_REPLY);
            description = "side request: text";
        }
        String id = String.format("msg_mock_%04d", ids.incrementAndGet());
        if (request.path("stream").asBoolean(false)) {
            return new StreamReply(events(id, model, turn, inputTokens), eventDelay, description);
        }
        return Reply.json(200, message(id, model, turn, inputTokens), description);
    }

    private static int assistantTurns(JsonNode messages) {
        int count = 0;
        for (Iterator<JsonNode> it = messages.elements(); it.hasNext(); ) {
            if ("assistant".equals(it.next().path("role").asText())) {
                count++;
            }
        }
        return count;
    }

    private static String describe(Turn turn) {
        return turn instanceof Turn.ToolUse tool ? "tool_use " + tool.name() : "text";
    }

    private static String toolUseId(String messageId) {
        return "toolu_" + messageId.substring("msg_".length());
    }

    private static int outputTokens(Turn turn) {
        String content = turn instanceof Turn.ToolUse tool ? json(tool.input()) : ((Turn.Text) turn).text();
        return Math.max(1, content.length() / 4);
    }

    /** The whole message, as the non-streaming API returns it. */
    private static Map<String, Object> message(String id, String model, Turn turn, int inputTokens) {
        Map<String, Object> block = turn instanceof Turn.ToolUse tool
                ? ordered("type", "tool_use", "id", toolUseId(id), "name", tool.name(), "input", tool.input())
                : ordered("type", "text", "text", ((Turn.Text) turn).text());
        Map<String, Object> message = messageHead(id, model, inputTokens, outputTokens(turn));
        message.put("content", List.of(block));
        message.put("stop_reason", stopReason(turn));
        return message;
    }

    private static Map<String, Object> messageHead(String id, String model, int inputTokens, int outputTokens) {
        return ordered("id", id, "type", "message", "role", "assistant", "model", model, "content", List.of(),
                "stop_reason", null, "stop_sequence", null,
                "usage", ordered("input_tokens", inputTokens, "output_tokens", outputTokens));
    }

    /** The event sequence of the streaming API, for one content block. */
    static List<String> events(String id, String model, Turn turn, int inputTokens) {
        List<String> events = new ArrayList<>();
        events.add(event("message_start", ordered("type", "message_start",
                "message", messageHead(id, model, inputTokens, 1))));
        Map<String, Object> start;
        List<Map<String, Object>> deltas = new ArrayList<>();
        if (turn instanceof Turn.ToolUse tool) {
            start = ordered("type", "tool_use", "id", toolUseId(id), "name", tool.name(), "input", Map.of());
            for (String piece : pieces(json(tool.input()))) {
                deltas.add(ordered("type", "input_json_delta", "partial_json", piece));
            }
        } else {
            start = ordered("type", "text", "text", "");
            for (String piece : pieces(((Turn.Text) turn).text())) {
                deltas.add(ordered("type", "text_delta", "text", piece));
            }
        }
        events.add(event("content_block_start", ordered("type", "content_block_start", "index", 0, "content_block", start)));
        events.add(event("ping", ordered("type", "ping")));
        for (Map<String, Object> delta : deltas) {
            events.add(event("content_block_delta", ordered("type", "content_block_delta", "index", 0, "delta", delta)));
        }
        events.add(event("content_block_stop", ordered("type", "content_block_stop", "index", 0)));
        events.add(event("message_delta", ordered("type", "message_delta",
                "delta", ordered("stop_reason", stopReason(turn), "stop_sequence", null),
                "usage", ordered("output_tokens", outputTokens(turn)))));
        events.add(event("message_stop", ordered("type", "message_stop")));
        return events;
    }

    private static String stopReason(Turn turn) {
        return turn instanceof Turn.ToolUse ? "tool_use" : "end_turn";
    }

    /** A JSON object with its keys in the order given (the API's order, easier to read in a record). */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static List<String> pieces(String text) {
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < text.length(); i += DELTA_CHARS) {
            pieces.add(text.substring(i, Math.min(text.length(), i + DELTA_CHARS)));
        }
        if (pieces.isEmpty()) {
            pieces.add("");
        }
        return pieces;
    }

    private static String event(String name, Object data) {
        return "event: " + name + "\ndata: " + json(data) + "\n\n";
    }

    private static String json(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value, e);
        }
    }

    private synchronized void save(RecordedRequest request) throws IOException {
        requests.add(request);
        if (record != null) {
            record.write(request.toJsonLine());
            record.write('\n');
            record.flush();
        }
    }

    private interface Reply {
        String description();

        void send(HttpExchange exchange) throws IOException;

        static Reply json(int status, Object body, String description) {
            return new Reply() {
                @Override
                public String description() {
                    return description;
                }

                @Override
                public void send(HttpExchange exchange) throws IOException {
                    byte[] bytes = MockAnthropicApi.json(body).getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("content-type", "application/json");
                    exchange.getResponseHeaders().set("request-id", "req_mock");
                    exchange.sendResponseHeaders(status, bytes.length);
                    exchange.getResponseBody().write(bytes);
                }
            };
        }

        static Reply error(int status, String type, String message) {
            return json(status, ordered("type", "error", "error", ordered("type", type, "message", message)),
                    "error " + status + ": " + type);
        }
    }

    private record StreamReply(List<String> events, Duration delay, String description) implements Reply {
        @Override
        public void send(HttpExchange exchange) throws IOException {
            exchange.getResponseHeaders().set("content-type", "text/event-stream; charset=utf-8");
            exchange.getResponseHeaders().set("cache-control", "no-cache");
            exchange.getResponseHeaders().set("request-id", "req_mock");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            for (String event : events) {
                out.write(event.getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (!delay.isZero()) {
                    try {
                        Thread.sleep(delay.toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    public static final class Builder {
        private InetSocketAddress bind = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        private Script script = Script.of();
        private Duration eventDelay = Duration.ZERO;
        private String expectedKey;
        private Path recordFile;

        private Builder() {
        }

        /** Where to listen; 127.0.0.1 and any free port unless told. */
        public Builder bind(InetSocketAddress bind) {
            this.bind = bind;
            return this;
        }

        public Builder script(Script script) {
            this.script = script;
            return this;
        }

        /** A pause after each streamed event, to make streaming visible to a test. */
        public Builder eventDelay(Duration eventDelay) {
            this.eventDelay = eventDelay;
            return this;
        }

        /** Answer 401 (as the real API would) to a request whose x-api-key is not this one; still recorded. */
        public Builder expectKey(String key) {
            this.expectedKey = key;
            return this;
        }

        /** Append each request as a JSON line to this file, flushed at once. */
        public Builder recordTo(Path file) {
            this.recordFile = file;
            return this;
        }

        public MockAnthropicApi start() {
            try {
                return new MockAnthropicApi(this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the mock Anthropic API on " + bind, e);
            }
        }
    }
}
