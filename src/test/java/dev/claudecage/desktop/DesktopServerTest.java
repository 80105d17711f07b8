package dev.claudecage.desktop;

import dev.claudecage.CageException;
import dev.claudecage.host.Host;
import dev.claudecage.host.Netns;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The desktop's web server on loopback, with a page folder of the test's and a stand-in for the
 * cage: a server that greets as VNC does and echoes what it gets, counting its connections (the
 * canary: a refused WebSocket never reaches it).
 */
class DesktopServerTest {

    private static final String GREETING = "RFB 003.008\n";

    @TempDir
    Path pageRoot;

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger cageConnections = new AtomicInteger();
    private ServerSocket cage;
    private volatile byte[] cageSays = GREETING.getBytes(StandardCharsets.US_ASCII);
    private DesktopServer server;
    private int port;

    @BeforeEach
    void serve() throws IOException {
        Files.writeString(pageRoot.resolve("vnc.html"), "<html><script type=module src=app/ui.js></script></html>");
        Files.createDirectories(pageRoot.resolve("app"));
        Files.writeString(pageRoot.resolve("app/ui.js"), "export default 1;");
        Files.writeString(pageRoot.resolve("app/README"), "not served");
        Files.createDirectories(pageRoot.resolve("utils"));
        Files.writeString(pageRoot.resolve("utils/launch.js"), "not served");
        cage = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread vnc = new Thread(this::actAsTheCage, "test-cage");
        vnc.setDaemon(true);
        vnc.start();
        server = DesktopServer.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                DesktopPage.load(pageRoot));
        port = server.address().getPort();
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        cage.close();
    }

    /** Each connection: the greeting (or whatever the test says), then every byte back. */
    private void actAsTheCage() {
        while (!cage.isClosed()) {
            try {
                Socket connection = cage.accept();
                cageConnections.incrementAndGet();
                Thread echo = new Thread(() -> {
                    try (connection) {
                        connection.getOutputStream().write(cageSays);
                        connection.getInputStream().transferTo(connection.getOutputStream());
                    } catch (IOException e) {
                        // The test's connection ended.
                    }
                });
                echo.setDaemon(true);
                echo.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void startDirect() {
        server.start(() -> SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                cage.getLocalPort())), log::add);
    }

    @Test
    void servesTheHostsPageWithItsHeadersAndNothingElse() throws Exception {
        startDirect();
        String page = exchange("GET /vnc.html HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
        assertTrue(page.startsWith("HTTP/1.1 200 OK\r\n"), page);
        assertTrue(page.contains("\r\nContent-Type: text/html; charset=utf-8\r\n"), page);
        assertTrue(page.contains("\r\nContent-Security-Policy: " + DesktopPage.CONTENT_SECURITY_POLICY + "\r\n"), page);
        assertTrue(page.contains("\r\nX-Content-Type-Options: nosniff\r\n"), page);
        assertTrue(page.contains("\r\nReferrer-Policy: no-referrer\r\n"), page);
        assertTrue(page.contains("\r\nCache-Control: no-store\r\n"), page);
        assertTrue(page.endsWith("\r\n\r\n" + Files.readString(pageRoot.resolve("vnc.html"))), page);
        String script = exchange("GET /app/ui.js?v=1 HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n");
        assertTrue(script.startsWith("HTTP/1.1 200 OK\r\n") && script.contains("text/javascript"), script);
        assertTrue(exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .startsWith("HTTP/1.1 302 Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n"
                        + "Location: /vnc.html\r\n"));
        for (String path : List.of("/app/README", "/utils/launch.js", "/../vnc.html", "/app/../vnc.html", "/app/",
                "/vnc.html/", "//vnc.html")) {
            String refused = exchange("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertTrue(refused.startsWith("HTTP/1.1 404 Not Found\r\n"), path + ": " + refused);
            assertTrue(refused.contains("Content-Security-Policy: "), refused);
        }
        assertTrue(exchange("POST /vnc.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
                .startsWith("HTTP/1.1 405 "));
        assertTrue(exchange("garbage\r\n\r\n").startsWith("HTTP/1.1 400 "));
        assertEquals(0, cageConnections.get(), "serving the page never touches the cage");
    }

    @Test
    void aNameThatIsNotThisHostsAddressIsRefusedAgainstDnsRebinding() throws Exception {
        startDirect();
        String rebound = exchange("GET /vnc.html HTTP/1.1\r\nHost: rebind.example:" + port + "\r\n\r\n");
        assertTrue(rebound.startsWith("HTTP/1.1 403 Forbidden\r\n"), rebound);
        String socket = exchange(upgrade("rebind.example:" + port, "http://rebind.example:" + port));
        assertTrue(socket.startsWith("HTTP/1.1 403 Forbidden\r\n"), socket);
        assertEquals(0, cageConnections.get(), "a rebound name reached the cage");
        // The positive twin: the same WebSocket for the address reaches the cage.
        assertTrue(exchange(upgrade("127.0.0.1:" + port, "http://127.0.0.1:" + port))
                .startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
        assertEquals(1, cageConnections.get());
        assertTrue(log.stream().anyMatch(line -> line.contains("Host 'rebind.example:" + port + "'")), log.toString());
    }

    @Test
    void aWebSocketFromAnotherPageIsRefusedBeforeTheCageIsReached() throws Exception {
        startDirect();
        for (String origin : List.of("http://attacker.example", "http://127.0.0.1:" + (port + 1), "null",
                "https://127.0.0.1:" + port)) {
            String refused = exchange(upgrade("127.0.0.1:" + port, origin));
            assertTrue(refused.startsWith("HTTP/1.1 403 Forbidden\r\n"), origin + ": " + refused);
        }
        String noOrigin = exchange("GET /websockify HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        assertTrue(noOrigin.startsWith("HTTP/1.1 403 "), noOrigin);
        assertEquals(0, cageConnections.get(), "a WebSocket of another page reached the cage");
        String own = exchange(upgrade("127.0.0.1:" + port, "http://127.0.0.1:" + port));
        assertTrue(own.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), own);
        assertTrue(own.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), own);
        assertEquals(1, cageConnections.get());
    }

    @Test
    void theWebSocketCarriesTheVncStreamBothWays() throws Exception {
        startDirect();
        Received received = new Received();
        WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .header("Origin", "http://127.0.0.1:" + port)
                .subprotocols("binary")
                .buildAsync(URI.create("ws://127.0.0.1:" + port + "/websockify"), received)
                .get(10, TimeUnit.SECONDS);
        assertEquals("binary", socket.getSubprotocol());
        byte[] payload = new byte[300_000];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31);
        }
        socket.sendBinary(ByteBuffer.wrap(payload), true).get(10, TimeUnit.SECONDS);
        byte[] greeting = GREETING.getBytes(StandardCharsets.US_ASCII);
        byte[] expected = new byte[greeting.length + payload.length];
        System.arraycopy(greeting, 0, expected, 0, greeting.length);
        System.arraycopy(payload, 0, expected, greeting.length, payload.length);
        assertArrayEquals(expected, received.awaitBytes(expected.length));
        socket.sendPing(ByteBuffer.wrap(new byte[] {1, 2, 3})).get(10, TimeUnit.SECONDS);
        assertArrayEquals(new byte[] {1, 2, 3}, received.pong.get(10, TimeUnit.SECONDS));
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
        assertEquals(WebSocket.NORMAL_CLOSURE, received.closed.get(10, TimeUnit.SECONDS));
        assertEquals(List.of(), log);
    }

    @Test
    void whatIsNotAVncServerInTheCageNeverReachesTheBrowser() throws Exception {
        cageSays = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>"
                .getBytes(StandardCharsets.US_ASCII);
        startDirect();
        String answer = exchange(upgrade("127.0.0.1:" + port, "http://127.0.0.1:" + port));
        assertTrue(answer.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), answer);
        assertFalse(answer.contains("<script>") || answer.contains("HTTP/1.0"), answer);
        assertEquals(1, cageConnections.get());
        assertTrue(log.stream().anyMatch(line -> line.contains("not a VNC server: it began with 'HTTP/1.0 200'")),
                log.toString());
    }

    @Test
    void aCageThatIsNotListeningYetIsWaitedForThenRefused() throws Exception {
        int nothing;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nothing = free.getLocalPort();
        }
        server.start(() -> SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), nothing)),
                log::add);
        long began = System.nanoTime();
        String answer = exchange(upgrade("127.0.0.1:" + port, "http://127.0.0.1:" + port));
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        assertTrue(answer.startsWith("HTTP/1.1 502 "), answer);
        assertTrue(waited >= 9_000 && waited < 20_000, "waited " + waited + " ms");
        assertTrue(log.stream().anyMatch(line -> line.contains("no VNC greeting within 10 s")), log.toString());
    }

    @Test
    void throughTheNamespaceAndNothingListensOnceClosed() throws Exception {
        assumeTrue(Host.effectiveUid() == 0, "setns needs root (CAP_SYS_ADMIN), and this test runs as uid "
                + Host.effectiveUid());
        try (Netns here = Netns.open(Path.of("/proc/thread-self/ns/net"))) {
            server.start(DesktopServer.throughNamespace(here, cage.getLocalPort()), log::add);
            assertTrue(exchange(upgrade("127.0.0.1:" + port, "http://127.0.0.1:" + port))
                    .startsWith("HTTP/1.1 101 "));
            assertEquals(1, cageConnections.get());
            server.close();
        }
        assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close());
    }

    @Test
    void aPortInUseIsAClearError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CageException e = assertThrows(CageException.class, () -> DesktopServer.bind(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort()),
                    DesktopPage.load(pageRoot)));
            assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
    }

    private static String upgrade(String host, String origin) {
        return "GET /websockify HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " + origin
                + "\r\n\r\n";
    }

    /** Sends {@code request} and reads the answer: to the end, or its head when it switches protocols. */
    private String exchange(String request) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                answer.write(b);
                String text = answer.toString(StandardCharsets.ISO_8859_1);
                if (text.startsWith("HTTP/1.1 101 ") && text.endsWith("\r\n\r\n")) {
                    break;
                }
            }
            return answer.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** What the server sent over the WebSocket. */
    private static final class Received implements WebSocket.Listener {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> pong = new CompletableFuture<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();

        @Override
        public synchronized CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            bytes.write(chunk, 0, chunk.length);
            notifyAll();
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            byte[] payload = new byte[message.remaining()];
            message.get(payload);
            pong.complete(payload);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        synchronized byte[] awaitBytes(int count) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (bytes.size() < count && System.nanoTime() < deadline) {
                wait(100);
            }
            return bytes.toByteArray();
        }
    }
}
