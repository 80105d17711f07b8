package dev.claudecage.net.gateway;

import dev.claudecage.CageException;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.proxy.TrafficLimits;
import dev.claudecage.testing.mockapi.MockAnthropicApi;
import dev.claudecage.testing.mockapi.RecordedRequest;
import dev.claudecage.testing.mockapi.Script;
import dev.claudecage.testing.mockapi.Turn;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gateway between a cage (a raw socket on loopback) and an upstream on loopback: nothing else is reached. */
class ApiGatewayTest {

    static final String REAL_KEY = "sk-ant-api03-REALkey_for-tests-only-0123456789abcdefghijklmnopqrstuv";
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final PlaceholderKey placeholder = PlaceholderKey.generate();
    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final TrafficLimits limits = new TrafficLimits(1L << 40, 64);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(toClose);
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    private <T extends AutoCloseable> T closing(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private ApiGateway gateway(URI upstream) {
        return gateway(upstream, ApiGateway.Settings.defaults());
    }

    private ApiGateway gateway(URI upstream, ApiGateway.Settings settings) {
        return gateway(upstream, limits, settings);
    }

    private ApiGateway gateway(URI upstream, TrafficLimits cageLimits, ApiGateway.Settings settings) {
        return closing(ApiGateway.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), upstream, placeholder,
                REAL_KEY::toCharArray, audit::add, cageLimits, settings));
    }

    private ApiGateway gateway(InetAddress bind, URI upstream, Supplier<char[]> key) {
        return closing(ApiGateway.start(new InetSocketAddress(bind, 0), upstream, placeholder, key, audit::add, limits,
                ApiGateway.Settings.defaults()));
    }

    private MockAnthropicApi mock(Turn... turns) {
        return closing(MockAnthropicApi.builder().script(Script.of(turns)).expectKey(REAL_KEY).start());
    }

    static String messagesBody(boolean stream) {
        return "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":1024,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"list the files\"}],"
                + "\"tools\":[{\"name\":\"Bash\",\"input_schema\":{\"type\":\"object\"}}]}";
    }

    private List<String> withKey(String... more) {
        List<String> lines = new ArrayList<>(List.of("x-api-key: " + placeholder, "content-type: application/json",
                "anthropic-version: 2023-06-01"));
        lines.addAll(List.of(more));
        return lines;
    }

    /** The gateway audits after the last byte went out: wait (bounded) for the count to arrive. */
    private List<AuditEvent> awaitAudit(int count) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(count, audit.size(), "audit events: " + audit);
        return List.copyOf(audit);
    }

    private static void assertNoSecretIn(AuditEvent event) {
        String text = event.toString();
        assertFalse(text.contains(REAL_KEY), text);
        assertFalse(text.toLowerCase(java.util.Locale.ROOT).contains("x-api-key:"), text);
        assertFalse(text.contains("anthropic-version"), "no headers in the audit: " + text);
    }

    @Test
    void forwardsWithTheRealKeyAndTheCageNeverSeesIt() throws Exception {
        MockAnthropicApi mock = mock(Turn.bash("ls -la /workspace"));
        ApiGateway gateway = gateway(mock.baseUrl());
        String body = messagesBody(false);

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages?beta=true", withKey(), body);

        assertEquals(200, response.status(), response.rawText());
        assertTrue(response.bodyText().contains("\"tool_use\"") && response.bodyText().contains("ls -la /workspace"),
                response.bodyText());
        assertFalse(RawHttp.contains(response.raw(), REAL_KEY), "the real key reached the cage");
        assertEquals(List.of(REAL_KEY), mock.keysSeen());
        RecordedRequest seen = mock.requests().get(0);
        assertEquals("POST", seen.method());
        assertEquals("/v1/messages?beta=true", seen.target());
        assertEquals(body, seen.body());
        assertEquals(Optional.of("2023-06-01"), seen.header("anthropic-version"));
        assertFalse(seen.headers().toString().contains(placeholder.value()), "the placeholder went upstream: " + seen.headers());
    }

    @Test
    void auditsMethodPathStatusAndBytesButNeverHeaders() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());
        String body = messagesBody(false);

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages?beta=true", withKey(), body);

        AuditEvent event = awaitAudit(1).get(0);
        assertEquals(ApiGateway.AUDIT_SOURCE, event.source());
        assertEquals(AuditEvent.ALLOWED, event.decision());
        assertEquals("POST /v1/messages?beta=true 200", event.reason());
        assertEquals("127.0.0.1", event.destination());
        assertEquals(mock.address().getPort(), event.port());
        assertEquals(body.getBytes(StandardCharsets.UTF_8).length, event.bytesSent());
        assertEquals(response.body().length, event.bytesReceived());
        assertNoSecretIn(event);
        assertFalse(event.toString().contains(placeholder.value()), event.toString());
        assertEquals(event.bytesSent() + event.bytesReceived(), limits.bytesUsed(), "the cage's budget counts both bodies");
    }

    @Test
    void takesThePlaceholderAsABearerTokenToo() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages",
                List.of("Authorization: Bearer " + placeholder, "content-type: application/json"), messagesBody(false));

        assertEquals(200, response.status(), response.rawText());
        assertEquals(List.of(REAL_KEY), mock.keysSeen());
        assertEquals(Optional.empty(), mock.requests().get(0).header("authorization"));
    }

    static Stream<Object[]> refusedCredentials() {
        String other = PlaceholderKey.generate().value();
        return Stream.of(
                new Object[]{"no key at all", (Function<String, List<String>>) ph -> List.of()},
                new Object[]{"another session's placeholder", (Function<String, List<String>>) ph -> List.of("x-api-key: " + other)},
                new Object[]{"the real key itself", (Function<String, List<String>>) ph -> List.of("x-api-key: " + REAL_KEY)},
                new Object[]{"the placeholder with a suffix", (Function<String, List<String>>) ph -> List.of("x-api-key: " + ph + "x")},
                new Object[]{"the placeholder twice in one value", (Function<String, List<String>>) ph -> List.of("x-api-key: " + ph + ", " + ph)},
                new Object[]{"a wrong bearer token", (Function<String, List<String>>) ph -> List.of("Authorization: Bearer " + other)},
                new Object[]{"the placeholder as Basic", (Function<String, List<String>>) ph -> List.of("Authorization: Basic " + ph)},
                new Object[]{"right x-api-key, wrong bearer", (Function<String, List<String>>) ph ->
                        List.of("x-api-key: " + ph, "Authorization: Bearer " + other)},
                new Object[]{"right x-api-key, a second wrong one", (Function<String, List<String>>) ph ->
                        List.of("x-api-key: " + ph, "x-api-key: " + other)});
    }

    @ParameterizedTest(name = "{0}: 401, nothing forwarded")
    @MethodSource("refusedCredentials")
    void refusesAnythingButExactlyThePlaceholder(String name, Function<String, List<String>> credentials) throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());
        List<String> headers = new ArrayList<>(credentials.apply(placeholder.value()));
        headers.add("content-type: application/json");

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", headers, messagesBody(false));

        assertEquals(401, response.status(), response.rawText());
        assertEquals("application/json", response.header("content-type"));
        assertTrue(response.bodyText().contains("\"type\":\"error\"") && response.bodyText().contains("authentication_error"),
                response.bodyText());
        assertFalse(RawHttp.contains(response.raw(), REAL_KEY));
        assertEquals(List.of(), mock.requests(), "the mock API must see nothing");
        AuditEvent event = awaitAudit(1).get(0);
        assertEquals(AuditEvent.DENIED, event.decision());
        assertTrue(event.reason().startsWith("POST /v1/messages 401: "), event.reason());
        assertEquals(0L, event.bytesSent());
        assertNoSecretIn(event);
        assertFalse(event.toString().contains("sk-ant-"), "the presented credential is not audited: " + event);
    }

    @Test
    void streamsServerSentEventsAsTheUpstreamSendsThem() throws Exception {
        CountDownLatch firstArrived = new CountDownLatch(1);
        AtomicBoolean secondSentBeforeFirstArrived = new AtomicBoolean();
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("content-type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.write("event: first\ndata: {\"n\":1}\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            try {
                // Send the second event only once the cage has the first (or after 10 s, which fails the test).
                secondSentBeforeFirstArrived.set(!firstArrived.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.write("event: second\ndata: {\"n\":2}\n\n".getBytes(StandardCharsets.UTF_8));
            exchange.close();
        }));
        ApiGateway gateway = gateway(upstream.baseUrl());

        try (Socket socket = new Socket()) {
            socket.connect(gateway.address(), (int) WAIT.toMillis());
            socket.setSoTimeout((int) WAIT.toMillis());
            String body = messagesBody(true);
            socket.getOutputStream().write((RawHttp.head("POST", "/v1/messages", withKey(), body.length()) + body)
                    .getBytes(StandardCharsets.UTF_8));
            InputStream in = socket.getInputStream();
            StringBuilder seen = new StringBuilder();
            byte[] buffer = new byte[4096];
            while (!seen.toString().contains("event: first\ndata: {\"n\":1}\n\n")) {
                int read = in.read(buffer);
                assertTrue(read > 0, "the stream ended before the first event: " + seen);
                seen.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
            }
            assertFalse(seen.toString().contains("second"), "the second event cannot have been sent yet");
            firstArrived.countDown();
            seen.append(new String(RawHttp.readAll(in), StandardCharsets.UTF_8));
            assertTrue(seen.toString().contains("event: second"), seen.toString());
        }
        assertFalse(secondSentBeforeFirstArrived.get(), "the first event did not reach the cage before the second was sent");
    }

    @Test
    void streamsTheRequestBodyAsTheCageSendsIt() throws Exception {
        String part1 = "{\"model\":\"m\",\"messages\":[" + "x".repeat(200);
        String part2 = "]}";
        CountDownLatch firstPartUpstream = new CountDownLatch(1);
        AtomicReference<String> upstreamGot = new AtomicReference<>();
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            InputStream in = exchange.getRequestBody();
            byte[] first = readExactly(in, part1.length());
            firstPartUpstream.countDown();
            upstreamGot.set(new String(first, StandardCharsets.UTF_8) + new String(in.readAllBytes(), StandardCharsets.UTF_8));
            TestUpstream.reply(exchange, 200, "{}");
        }));
        ApiGateway gateway = gateway(upstream.baseUrl());

        try (Socket socket = new Socket()) {
            socket.connect(gateway.address(), (int) WAIT.toMillis());
            socket.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            List<String> headers = withKey("Transfer-Encoding: chunked");
            out.write(RawHttp.head("POST", "/v1/messages", headers, -1).getBytes(StandardCharsets.UTF_8));
            out.write(chunk(part1));
            out.flush();
            assertTrue(firstPartUpstream.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                    "the upstream did not get the first part before the second was sent");
            out.write(chunk(part2));
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            RawHttp.Response response = RawHttp.parse(RawHttp.readAll(socket.getInputStream()));
            assertEquals(200, response.status(), response.rawText());
        }
        assertEquals(part1 + part2, upstreamGot.get());
        assertEquals((long) (part1 + part2).length(), awaitAudit(1).get(0).bytesSent());
    }

    /**
     * Reads exactly {@code count} bytes, never asking for 0: the JDK server's chunked stream blocks for the
     * next chunk even on a read of length 0, which {@code readNBytes} makes at the end.
     */
    private static byte[] readExactly(InputStream in, int count) throws IOException {
        byte[] bytes = new byte[count];
        int have = 0;
        while (have < count) {
            int read = in.read(bytes, have, count - have);
            if (read < 0) {
                throw new IOException("the body ended after " + have + " bytes");
            }
            have += read;
        }
        return bytes;
    }

    private static byte[] chunk(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return RawHttp.concat(RawHttp.concat((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII),
                bytes), "\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aStalledRequestBodyDoesNotHoldUpOtherRequests() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        try (Socket stalled = new Socket()) {
            stalled.connect(gateway.address(), (int) WAIT.toMillis());
            stalled.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = stalled.getOutputStream();
            out.write(RawHttp.head("POST", "/v1/messages", withKey("Transfer-Encoding: chunked"), -1)
                    .getBytes(StandardCharsets.UTF_8));
            out.write(chunk("{\"model\":\"m\","));
            out.flush();

            for (int i = 0; i < 3; i++) {
                HttpResponse<String> other = client.send(request(gateway, messagesBody(false)).timeout(WAIT).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, other.statusCode(), other.body());
            }

            out.write(chunk("\"messages\":[]}"));
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(200, RawHttp.parse(RawHttp.readAll(stalled.getInputStream())).status());
        }
    }

    private HttpRequest.Builder request(ApiGateway gateway, String body) {
        return HttpRequest.newBuilder(gateway.baseUrl().resolve("/v1/messages"))
                .header("x-api-key", placeholder.value())
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    @Test
    void masksTheRealKeyWhereverTheUpstreamEchoesIt() throws Exception {
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            String key = exchange.getRequestHeaders().getFirst("x-api-key");
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("x-echo", "your key is " + key);
            exchange.getResponseHeaders().add("x-fine", "kept");
            if (exchange.getRequestURI().getPath().equals("/split")) {
                // Chunked, with the key cut in two across writes and flushes.
                exchange.sendResponseHeaders(400, 0);
                OutputStream out = exchange.getResponseBody();
                out.write(("data: invalid key " + key.substring(0, 20)).getBytes(StandardCharsets.UTF_8));
                out.flush();
                sleep(50);
                out.write((key.substring(20) + " and " + key.substring(0, 5) + "\n\n").getBytes(StandardCharsets.UTF_8));
                exchange.close();
            } else {
                TestUpstream.reply(exchange, 401, "{\"error\":\"invalid x-api-key " + key + "\",\"twice\":\"" + key + key + "\"}");
            }
        }));
        ApiGateway gateway = gateway(upstream.baseUrl());
        String mask = "*".repeat(REAL_KEY.length());

        RawHttp.Response whole = RawHttp.send(gateway.address(), "POST", "/whole", withKey(), "{}");
        assertEquals(401, whole.status());
        assertFalse(RawHttp.contains(whole.raw(), REAL_KEY), whole.rawText());
        assertEquals("{\"error\":\"invalid x-api-key " + mask + "\",\"twice\":\"" + mask + mask + "\"}", whole.bodyText());
        assertTrue(whole.complete(), "Content-Length still holds");
        assertNull(whole.header("x-echo"), "a header carrying the key is dropped");
        assertEquals("kept", whole.header("x-fine"));

        RawHttp.Response split = RawHttp.send(gateway.address(), "POST", "/split", withKey(), "{}");
        assertEquals(400, split.status());
        assertFalse(RawHttp.contains(split.raw(), REAL_KEY), split.rawText());
        assertEquals("data: invalid key " + mask + " and " + REAL_KEY.substring(0, 5) + "\n\n", split.bodyText());
        for (AuditEvent event : awaitAudit(2)) {
            assertNoSecretIn(event);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void refusesACompressedUpstreamBodyItCannotCheck() throws Exception {
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("content-encoding", "gzip");
            TestUpstream.reply(exchange, 200, "not really gzip");
        }));
        ApiGateway gateway = gateway(upstream.baseUrl());

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), "{}");

        assertEquals(502, response.status(), response.rawText());
        assertFalse(response.bodyText().contains("not really gzip"));
        assertTrue(awaitAudit(1).get(0).reason().contains("compressed"), audit.toString());
    }

    @Test
    void asksTheUpstreamForAnUncompressedBody() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());

        RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey("Accept-Encoding: gzip, br"), messagesBody(false));

        assertEquals(Optional.of("identity"), mock.requests().get(0).header("accept-encoding"));
    }

    @Test
    void anUnreachableUpstreamIsA502ThatNamesNoKey() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        ApiGateway gateway = gateway(URI.create("http://127.0.0.1:" + closedPort));

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), "{}");

        assertEquals(502, response.status(), response.rawText());
        assertTrue(response.bodyText().contains("api_error"), response.bodyText());
        assertFalse(RawHttp.contains(response.raw(), REAL_KEY));
        AuditEvent event = awaitAudit(1).get(0);
        assertTrue(event.reason().startsWith("POST /v1/messages 502: upstream failed"), event.reason());
        assertNoSecretIn(event);
    }

    @Test
    void anUpstreamThatBreaksOffLeavesTheCageWithATruncatedResponse() throws Exception {
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 0);
            exchange.getResponseBody().write("event: first\ndata: {}\n\n".getBytes(StandardCharsets.UTF_8));
            exchange.getResponseBody().flush();
            // Thrown from the handler: the server drops the connection without the last chunk.
            throw new IOException("the upstream breaks off");
        }));
        ApiGateway gateway = gateway(upstream.baseUrl());

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), "{}");

        assertEquals(200, response.status());
        assertTrue(response.bodyText().contains("event: first"), response.rawText());
        assertFalse(response.complete(), "a broken upstream stream must not look complete to the cage");
        assertTrue(awaitAudit(1).get(0).reason().contains("the upstream broke off"), audit.toString());
    }

    @Test
    void handlesManyRequestsAtOnce() throws Exception {
        int requests = 20;
        CountDownLatch allArrived = new CountDownLatch(requests);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            exchange.getRequestBody().readAllBytes();
            allArrived.countDown();
            boolean together;
            try {
                together = allArrived.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                together = false;
            }
            inFlight.decrementAndGet();
            TestUpstream.reply(exchange, together ? 200 : 504, "{}");
        }));
        ApiGateway gateway = gateway(upstream.baseUrl());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            responses.add(client.sendAsync(request(gateway, "{\"n\":" + i + "}").timeout(WAIT.multipliedBy(2)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertEquals(200, response.get(WAIT.toSeconds() * 2, TimeUnit.SECONDS).statusCode());
        }
        assertEquals(requests, peak.get(), "all requests were upstream at once");
    }

    /**
     * Issue 24: requests beyond the gateway's handler pool waited in a queue, and were sent upstream with the
     * real key when their turn came, though their clients had long given up. Now a connection beyond the
     * cage's cap gets 429 at once, and no request waits: the upstream sees only the requests the cage waits for.
     */
    @Test
    void aRequestBeyondTheConnectionCapIsRefusedAtOnceNeverQueuedAndSentLater() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch twoArrived = new CountDownLatch(2);
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            exchange.getRequestBody().readAllBytes();
            twoArrived.countDown();
            try {
                release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestUpstream.reply(exchange, 200, "{}");
        }));
        ApiGateway gateway = gateway(upstream.baseUrl(), new TrafficLimits(1L << 40, 2), ApiGateway.Settings.defaults());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            held.add(client.sendAsync(request(gateway, "{}").timeout(WAIT.multipliedBy(2)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        assertTrue(twoArrived.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        long before = System.nanoTime();
        RawHttp.Response third = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), "{\"abandoned\":1}");
        long waitedMillis = (System.nanoTime() - before) / 1_000_000;

        assertEquals(429, third.status(), third.rawText());
        assertTrue(third.bodyText().contains("connection limit of 2"), third.bodyText());
        assertEquals("true", third.header("x-should-retry"));
        assertTrue(waitedMillis < 5_000, "refused at once, not after a wait: " + waitedMillis + " ms");
        release.countDown();
        for (CompletableFuture<HttpResponse<String>> response : held) {
            assertEquals(200, response.get(WAIT.toSeconds() * 2, TimeUnit.SECONDS).statusCode());
        }
        Thread.sleep(300);
        assertEquals(2, upstream.requests(), "the refused request was never sent upstream");
        assertTrue(audit.stream().anyMatch(event -> event.decision().equals(AuditEvent.DENIED)
                && event.reason().equals("POST /v1/messages 429: the connection limit of 2 open connections is reached")),
                audit.toString());
    }

    /**
     * Issue 24: 200 idle connections were all accepted. A connection counts against the cap from the moment it
     * is accepted, whether it says anything or not; the positive control is the same request once one closes.
     */
    @Test
    void idleConnectionsCountAgainstTheCapAndFreeTheirSlotWhenTheyClose() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        TrafficLimits cage = new TrafficLimits(1L << 40, 3);
        ApiGateway gateway = gateway(mock.baseUrl(), cage, ApiGateway.Settings.defaults());
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket socket = new Socket();
                socket.connect(gateway.address(), (int) WAIT.toMillis());
                idle.add(socket);
            }
            awaitOpenConnections(cage, 3);

            assertEquals(429, RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), messagesBody(false)).status());
            assertEquals(List.of(), mock.requests());

            idle.remove(0).close();
            awaitOpenConnections(cage, 2);
            assertEquals(200, RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), messagesBody(false)).status());
            assertEquals(1, mock.requests().size());
        } finally {
            for (Socket socket : idle) {
                socket.close();
            }
        }
    }

    private static void awaitOpenConnections(TrafficLimits cage, int count) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (cage.openConnections() != count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(count, cage.openConnections());
    }

    /**
     * Issue 24: 70 partial request heads blocked every request for 25 s. A head must be complete within the
     * head timeout; then the connection is closed, its slot freed and the attempt audited. The control: a
     * whole head sent as slowly, but within the timeout, is served.
     */
    @Test
    void aHeadThatDoesNotArriveWithinTheHeadTimeoutIsClosedAndAudited() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        TrafficLimits cage = new TrafficLimits(1L << 40, 1);
        ApiGateway gateway = gateway(mock.baseUrl(), cage, ApiGateway.Settings.defaults().withHeadTimeout(
                Duration.ofMillis(500)));
        try (Socket slow = new Socket()) {
            slow.connect(gateway.address(), (int) WAIT.toMillis());
            slow.setSoTimeout((int) WAIT.toMillis());
            slow.getOutputStream().write("POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nx-api-key: ".getBytes(
                    StandardCharsets.US_ASCII));
            long start = System.nanoTime();

            assertEquals(-1, slow.getInputStream().read(), "the gateway closes a head that takes too long");
            long closedAfterMillis = (System.nanoTime() - start) / 1_000_000;

            assertTrue(closedAfterMillis >= 400 && closedAfterMillis < 5_000, "closed after " + closedAfterMillis + " ms");
        }
        awaitOpenConnections(cage, 0);
        assertEquals("no complete request head within 500 ms", awaitAudit(1).get(0).reason());
        assertEquals(AuditEvent.DENIED, audit.get(0).decision());

        String head = RawHttp.head("POST", "/v1/messages", withKey(), messagesBody(false).length());
        try (Socket patient = new Socket()) {
            patient.connect(gateway.address(), (int) WAIT.toMillis());
            patient.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = patient.getOutputStream();
            out.write(head.substring(0, 20).getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(200);
            out.write((head.substring(20) + messagesBody(false)).getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, RawHttp.parse(RawHttp.readAll(patient.getInputStream())).status());
        }
    }

    /**
     * Issue 24: a request whose client had given up was still sent upstream, with the real key. Here the
     * host side takes its time to hand out the key (as a token refresh might), and the client leaves
     * meanwhile: the request is not sent. The control: the same request from a client that waits is sent.
     */
    @Test
    void aRequestWhoseClientLeftBeforeItWasSentIsNeverSent() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        CountDownLatch keyAsked = new CountDownLatch(1);
        CountDownLatch clientGone = new CountDownLatch(1);
        ApiGateway gateway = gateway(InetAddress.getLoopbackAddress(), mock.baseUrl(), () -> {
            keyAsked.countDown();
            try {
                clientGone.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return REAL_KEY.toCharArray();
        });
        String body = messagesBody(false);
        try (Socket leaving = new Socket()) {
            leaving.connect(gateway.address(), (int) WAIT.toMillis());
            leaving.getOutputStream().write((RawHttp.head("POST", "/v1/messages?abandoned=1", withKey(), body.length())
                    + body).getBytes(StandardCharsets.UTF_8));
            assertTrue(keyAsked.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        }
        clientGone.countDown();

        List<AuditEvent> events = awaitAudit(1);
        assertTrue(events.get(0).reason().contains("the cage closed the connection before the request was sent"),
                events.toString());
        assertEquals(List.of(), mock.requests(), "the abandoned request reached the upstream");

        RawHttp.Response waited = RawHttp.send(gateway.address(), "POST", "/v1/messages?waited=1", withKey(), body);
        assertEquals(200, waited.status(), waited.rawText());
        assertEquals(List.of("/v1/messages?waited=1"), mock.requests().stream().map(RecordedRequest::target).toList());
    }

    /**
     * Issue 24: after the proxy had cut the cage off at its egress limit, a 2 MiB POST through the gateway still
     * went upstream. The gateway shares the cage's budget: once it is spent (by the proxy, here through the
     * shared limits), the gateway refuses with 403 and sends nothing; a body that would pass it is cut off
     * mid-way and never reaches the upstream whole.
     */
    @Test
    void theGatewaySharesTheCagesByteBudgetAndIsCutOffWithIt() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        TrafficLimits cage = new TrafficLimits(1 << 20, 64);
        ApiGateway gateway = gateway(mock.baseUrl(), cage, ApiGateway.Settings.defaults());
        String big = "{\"messages\":\"" + "x".repeat(2 << 20) + "\"}";

        RawHttp.Response cut = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), big);

        assertTrue(cut.status() == -1 || !cut.complete(), "the cage gets no answer to a body past its budget: " + cut.status());
        assertTrue(cage.isCutOff());
        assertEquals(List.of(), mock.requests(), "a body past the budget reached the upstream whole");
        AuditEvent cutOff = awaitAudit(1).get(0);
        assertEquals(AuditEvent.CUT_OFF, cutOff.decision(), cutOff.toString());
        assertTrue(cutOff.bytesSent() <= 1 << 20, cutOff.toString());

        RawHttp.Response after = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), messagesBody(false));

        assertEquals(403, after.status(), after.rawText());
        assertTrue(after.bodyText().contains("the egress limit of 1m was passed; this cage is cut off"), after.bodyText());
        assertEquals(List.of(), mock.requests());
    }

    /** The control for the budget: under it, the same gateway forwards, and every body byte is charged to the cage. */
    @Test
    void underTheBudgetRequestsPassAndEveryBodyByteIsCharged() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        TrafficLimits cage = new TrafficLimits(1 << 20, 64);
        ApiGateway gateway = gateway(mock.baseUrl(), cage, ApiGateway.Settings.defaults());
        String body = "{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\""
                + "x".repeat(100_000) + "\"}]}";

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), body);

        assertEquals(200, response.status(), response.rawText());
        assertEquals(1, mock.requests().size());
        assertEquals(body.length() + response.body().length, cage.bytesUsed());
        assertFalse(cage.isCutOff());
    }

    @Test
    void dropsHopByHopHostAndCredentialHeadersAndKeepsTheRest() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());

        RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey("Keep-Alive: timeout=5",
                "Proxy-Authorization: Basic c2VjcmV0", "TE: trailers", "Connection: X-Drop-Me", "X-Drop-Me: 1",
                "X-Custom: kept", "anthropic-beta: tools-2024"), messagesBody(false));

        RecordedRequest seen = mock.requests().get(0);
        for (String dropped : List.of("keep-alive", "proxy-authorization", "te", "x-drop-me", "authorization")) {
            assertEquals(Optional.empty(), seen.header(dropped), dropped + " was forwarded: " + seen.headers());
        }
        assertEquals(Optional.of("kept"), seen.header("x-custom"));
        assertEquals(Optional.of("tools-2024"), seen.header("anthropic-beta"));
        assertEquals(Optional.of("127.0.0.1:" + mock.address().getPort()), seen.header("host"));
        assertEquals(List.of(REAL_KEY), seen.headers().get("x-api-key"));
    }

    @Test
    void takesOnlyAPathAsTheTargetNeverAHost() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());

        for (String target : List.of("http://example.invalid/v1/messages", "//example.invalid/v1/messages")) {
            RawHttp.Response response = RawHttp.send(gateway.address(), "POST", target, withKey(), messagesBody(false));
            assertEquals(400, response.status(), target + ": " + response.rawText());
        }
        assertEquals(400, RawHttp.send(gateway.address(), "OPTIONS", "*", withKey(), null).status());

        assertEquals(List.of(), mock.requests());
        assertTrue(awaitAudit(3).stream().allMatch(event -> event.decision().equals(AuditEvent.DENIED)), audit.toString());
    }

    @Test
    void refusesMethodsItDoesNotForward() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());

        RawHttp.Response response = RawHttp.send(gateway.address(), "TRACE", "/v1/messages", withKey(), null);

        assertEquals(405, response.status(), response.rawText());
        assertEquals(List.of(), mock.requests());
    }

    @Test
    void passesRedirectsToTheCageInsteadOfFollowingThem() throws Exception {
        TestUpstream elsewhere = closing(new TestUpstream(exchange -> TestUpstream.reply(exchange, 200, "{}")));
        TestUpstream upstream = closing(new TestUpstream(exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("location", elsewhere.baseUrl() + "/collect");
            TestUpstream.reply(exchange, 307, "");
        }));
        ApiGateway gateway = gateway(upstream.baseUrl());

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), "{}");

        assertEquals(307, response.status());
        assertEquals(elsewhere.baseUrl() + "/collect", response.header("location"));
        assertEquals(0, elsewhere.requests(), "the gateway followed a redirect with the real key");
    }

    @Test
    void streamsTheMockApisEventSequenceThrough() throws Exception {
        MockAnthropicApi mock = mock(Turn.write("/workspace/notes.txt", "hello from the cage"));
        ApiGateway gateway = gateway(mock.baseUrl());

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages?beta=true", withKey(),
                messagesBody(true));

        assertEquals(200, response.status());
        assertTrue(response.header("content-type").startsWith("text/event-stream"));
        assertEquals("chunked", response.header("transfer-encoding"));
        List<String> names = response.bodyText().lines().filter(line -> line.startsWith("event: "))
                .map(line -> line.substring(7)).distinct().toList();
        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop"), names);
        assertTrue(response.bodyText().contains("input_json_delta"));
        assertFalse(RawHttp.contains(response.raw(), REAL_KEY));
    }

    @Test
    void answers500WithoutForwardingWhenTheHostHasNoUsableKey() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        for (String bad : List.of("short", "sk-ant-api03-with\nnewline-0123456789", "sk-ant-api03 with spaces 0123")) {
            try (ApiGateway gateway = ApiGateway.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    mock.baseUrl(), placeholder, bad::toCharArray, audit::add, limits, ApiGateway.Settings.defaults())) {
                RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), "{}");
                assertEquals(500, response.status(), response.rawText());
                assertFalse(response.rawText().contains(bad));
            }
        }
        assertEquals(List.of(), mock.requests());
        assertTrue(awaitAudit(3).stream().allMatch(event -> event.reason().contains("no usable API key")), audit.toString());
    }

    @Test
    void wipesEachKeyArrayItIsHanded() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        List<char[]> handedOut = new CopyOnWriteArrayList<>();
        ApiGateway gateway = gateway(InetAddress.getLoopbackAddress(), mock.baseUrl(), () -> {
            char[] key = REAL_KEY.toCharArray();
            handedOut.add(key);
            return key;
        });

        RawHttp.send(gateway.address(), "POST", "/v1/messages", withKey(), messagesBody(false));

        assertEquals(1, handedOut.size());
        assertArrayEquals(new char[REAL_KEY.length()], handedOut.get(0));
        assertEquals(List.of(REAL_KEY), mock.keysSeen());
    }

    @Test
    void refusesToStartWhileTheHttpClientLogsHeaders() {
        String property = "jdk.httpclient.HttpClient.log";
        String before = System.getProperty(property);
        System.setProperty(property, "errors,headers");
        try {
            CageException e = assertThrows(CageException.class, () -> gateway(URI.create("http://127.0.0.1:9")));
            assertTrue(e.getMessage().contains(property), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    @Test
    void refusesAnUpstreamWithCredentialsOrNotHttp() {
        for (String upstream : List.of("ftp://127.0.0.1/", "http://user:pass@127.0.0.1/", "http://127.0.0.1/?q=1")) {
            assertThrows(CageException.class, () -> gateway(URI.create(upstream)), upstream);
        }
    }

    @Test
    void servesOnIpv6WithABracketedBaseUrl() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello over v6"));
        ApiGateway gateway = gateway(InetAddress.getByName("::1"), mock.baseUrl(), REAL_KEY::toCharArray);

        assertEquals("[0:0:0:0:0:0:0:1]", gateway.baseUrl().getHost());
        HttpResponse<String> response = HttpClient.newHttpClient().send(request(gateway, messagesBody(false)).timeout(WAIT)
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("hello over v6"));
    }

    @Test
    void addsLittleLatency() throws Exception {
        MockAnthropicApi mock = mock(Turn.text("hello"));
        ApiGateway gateway = gateway(mock.baseUrl());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String body = messagesBody(false);
        HttpRequest direct = HttpRequest.newBuilder(mock.baseUrl().resolve("/v1/messages")).header("x-api-key", REAL_KEY)
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).timeout(WAIT).build();
        HttpRequest viaGateway = request(gateway, body).timeout(WAIT).build();
        int warmup = 30;
        int measured = 50;
        long[] directNanos = new long[measured];
        long[] gatewayNanos = new long[measured];
        for (int i = 0; i < warmup + measured; i++) {
            long directTime = time(client, direct);
            long gatewayTime = time(client, viaGateway);
            if (i >= warmup) {
                directNanos[i - warmup] = directTime;
                gatewayNanos[i - warmup] = gatewayTime;
            }
        }
        double directMedian = median(directNanos) / 1e6;
        double gatewayMedian = median(gatewayNanos) / 1e6;
        System.out.printf("gateway latency, median of %d: direct %.3f ms, through the gateway %.3f ms, added %.3f ms%n",
                measured, directMedian, gatewayMedian, gatewayMedian - directMedian);
        assertTrue(gatewayMedian - directMedian < 20, "the gateway adds " + (gatewayMedian - directMedian) + " ms");
    }

    private static long time(HttpClient client, HttpRequest request) throws IOException, InterruptedException {
        long start = System.nanoTime();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        long elapsed = System.nanoTime() - start;
        assertEquals(200, response.statusCode(), response.body());
        return elapsed;
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    }
}
