package dev.claudecage.net.proxy;

import dev.claudecage.CageException;
import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The explicit proxy (HTTP_PROXY / HTTPS_PROXY): CONNECT tunnels and plain HTTP forwarding. */
class ExplicitProxyTest extends ProxyTestBase {

    @Test
    void connectToAnAllowedNameCarriesBytesBothWaysAndPassesTheHalfClose() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").start();

        try (Socket client = harness.openExplicit()) {
            String head = Wire.connect(client, "allowed.test:" + echo.port());
            assertEquals(200, Wire.status(head), head);
            Wire.send(client, "ping");
            assertEquals("ping", new String(TestServer.readExactly(client.getInputStream(), 4), ISO_8859_1));
            client.shutdownOutput();
            assertEquals(-1, client.getInputStream().read(), "the echo's half-close comes back");
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertEquals("proxy", event.source());
        assertEquals("allowed.test", event.destination());
        assertEquals(echo.port(), event.port());
        assertNull(event.reason());
        assertEquals(4L, event.bytesSent());
        assertEquals(4L, event.bytesReceived());
        assertEquals(List.of("127.0.0.1:" + echo.port()), harness.dialed());
    }

    @Test
    void bytesSentRightBehindTheConnectRequestAreNotLost() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "CONNECT allowed.test:" + echo.port() + " HTTP/1.1\r\n\r\nearly bytes");
            assertEquals(200, Wire.status(Wire.readHead(client.getInputStream())));
            assertEquals("early bytes", new String(TestServer.readExactly(client.getInputStream(), 11), ISO_8859_1));
        }
    }

    @Test
    void startFailsWithAClearMessageWhenThePortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CageException e = assertThrows(CageException.class, () -> harness
                    .tune(settings -> new ProxySettings(settings.bindAddresses(), taken.getLocalPort(), 0, 0,
                            settings.handshakeTimeout(), settings.idleTimeout(), settings.connectTimeout()))
                    .start());
            assertTrue(e.getMessage().startsWith("cannot start the egress proxy on 127.0.0.1: "), e.getMessage());
        }
    }

    @Test
    void tenMegabytesStreamThroughATunnelBothWaysUnchanged() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").start();
        byte[] data = new byte[10 * 1024 * 1024];
        new Random(42).nextBytes(data);
        ExecutorService writer = Executors.newSingleThreadExecutor();
        track(writer::shutdownNow);

        try (Socket client = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(client, "allowed.test:" + echo.port())));
            // Write and read at once: the echo sends back while we still send.
            Future<?> sending = writer.submit(() -> {
                OutputStream out = client.getOutputStream();
                for (int offset = 0; offset < data.length; offset += 100_000) {
                    out.write(data, offset, Math.min(100_000, data.length - offset));
                }
                client.shutdownOutput();
                return null;
            });
            byte[] received = TestServer.readExactly(client.getInputStream(), data.length);
            sending.get(10, TimeUnit.SECONDS);
            assertEquals(-1, client.getInputStream().read());
            assertArrayEquals(sha256(data), sha256(received));
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertEquals((long) data.length, event.bytesSent());
        assertEquals((long) data.length, event.bytesReceived());
    }

    @Test
    void aTunnelDeliversWhatTheServerSentBeforeTheServerIsDone() throws Exception {
        CountDownLatch serverMayFinish = new CountDownLatch(1);
        TestServer slow = track(TestServer.start(socket -> {
            OutputStream out = socket.getOutputStream();
            out.write("first\n".getBytes(ISO_8859_1));
            out.flush();
            serverMayFinish.await(10, TimeUnit.SECONDS);
            out.write("second\n".getBytes(ISO_8859_1));
        }));
        harness.allow("slow.test:" + slow.port()).pinToLoopback("slow.test").start();

        try (Socket client = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(client, "slow.test:" + slow.port())));
            assertEquals("first\n", new String(TestServer.readExactly(client.getInputStream(), 6), ISO_8859_1));
            assertEquals(1, serverMayFinish.getCount(), "the first part arrived while the server was still waiting");
            serverMayFinish.countDown();
            assertEquals("second\n", new String(client.getInputStream().readAllBytes(), ISO_8859_1));
        }
    }

    @Test
    void manyTunnelsAtOnceEachGetTheirOwnBytes() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").start();
        int clients = 32;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        track(pool::shutdownNow);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            byte[] data = new byte[100_000];
            new Random(i).nextBytes(data);
            results.add(pool.submit(() -> {
                try (Socket client = harness.openExplicit()) {
                    if (Wire.status(Wire.connect(client, "allowed.test:" + echo.port())) != 200) {
                        return false;
                    }
                    client.getOutputStream().write(data);
                    client.shutdownOutput();
                    return MessageDigest.isEqual(sha256(data), sha256(client.getInputStream().readAllBytes()));
                }
            }));
        }
        for (Future<Boolean> result : results) {
            assertTrue(result.get(20, TimeUnit.SECONDS));
        }
        assertEquals(clients, echo.connections());
    }

    /** Each blocked destination would reach the canary if the proxy let it through. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "canary.test:CANARY     | canary.test is not in allowed_hosts",
        "other.test:CANARY      | other.test is in allowed_hosts for port 1 only, not CANARY",
        "127.0.0.1:CANARY       | 127.0.0.1 is an IP address",
        "[::1]:CANARY           | [::1] is an IP address",
        "2130706433:CANARY      | 2130706433 is an IP address",
        "rebind.test:CANARY     | rebind.test resolves to 127.0.0.1, a loopback address",
    })
    void blockedDestinationsAreDeniedAndNeverReached(String target, String reason) throws Exception {
        TestServer canary = track(TestServer.canary());
        String port = String.valueOf(canary.port());
        harness.pinToLoopback("canary.test").pinToLoopback("other.test").allow("other.test:1")
                .allow("rebind.test:" + port).dnsAnswer("rebind.test", InetAddress.getLoopbackAddress()).start();
        String authority = target.replace("CANARY", port);
        String expectedReason = reason.replace("CANARY", port);

        try (Socket client = harness.openExplicit()) {
            String head = Wire.connect(client, authority);
            assertEquals(403, Wire.status(head), head);
            String body = Wire.readBody(client.getInputStream(), head);
            assertTrue(body.contains("CONNECT " + authority.toLowerCase() + " denied: " + expectedReason), body);
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertEquals(authority.substring(0, authority.lastIndexOf(':')), event.destination());
        assertEquals(canary.port(), event.port());
        assertTrue(event.reason().startsWith(expectedReason), event.reason());
        assertEquals(0, canary.connections(), "the canary was reached");
        assertTrue(harness.dialed().isEmpty(), harness.dialed().toString());
    }

    @Test
    void theCanaryIsReachableWhenThePolicyAllowsIt() throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.allow("canary.test:" + canary.port()).pinToLoopback("canary.test").start();

        try (Socket client = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(client, "canary.test:" + canary.port())));
            Wire.send(client, "x");
            client.shutdownOutput();
            assertEquals(-1, client.getInputStream().read());
        }

        assertEquals(1, canary.connections());
    }

    @Test
    void plainHttpIsRewrittenToOriginFormWithoutProxyOrHopByHopFields() throws Exception {
        BlockingQueue<String> requests = new LinkedBlockingQueue<>();
        TestServer web = track(TestServer.start(socket -> {
            requests.add(Wire.readHead(socket.getInputStream()));
            Wire.send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n"
                    + "Keep-Alive: timeout=5\r\nX-Served: yes\r\n\r\nhello");
        }));
        harness.allow("web.test:" + web.port()).pinToLoopback("web.test").start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "GET http://web.test:" + web.port() + "/path?q=1#fragment HTTP/1.1\r\n"
                    + "Host: evil.test\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n"
                    + "Keep-Alive: 300\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nAccept: */*\r\n\r\n");
            String head = Wire.readHead(client.getInputStream());
            assertEquals(200, Wire.status(head), head);
            assertEquals("hello", Wire.readBody(client.getInputStream(), head));
            assertEquals("close", Wire.header(head, "Connection"));
            assertFalse(Wire.hasHeader(head, "Keep-Alive"), head);
            assertEquals("yes", Wire.header(head, "X-Served"));
        }

        String upstream = requests.poll(5, TimeUnit.SECONDS);
        assertNotNull(upstream);
        assertTrue(upstream.startsWith("GET /path?q=1 HTTP/1.1\r\n"), upstream);
        assertEquals("web.test:" + web.port(), Wire.header(upstream, "Host"));
        assertEquals("close", Wire.header(upstream, "Connection"));
        assertEquals("*/*", Wire.header(upstream, "Accept"));
        for (String removed : List.of("Proxy-Authorization", "Proxy-Connection", "Keep-Alive", "X-Hop")) {
            assertFalse(Wire.hasHeader(upstream, removed), removed + " reached the server: " + upstream);
        }
        AuditEvent event = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertEquals("web.test", event.destination());
        assertEquals((long) upstream.length(), event.bytesSent());
    }

    @Test
    void requestBodiesArriveWhole_fixedLengthAndChunked() throws Exception {
        BlockingQueue<String> bodies = new LinkedBlockingQueue<>();
        TestServer web = track(TestServer.start(socket -> {
            InputStream in = socket.getInputStream();
            String head = Wire.readHead(in);
            String length = Wire.header(head, "Content-Length");
            bodies.add(length != null ? new String(TestServer.readExactly(in, Integer.parseInt(length)), ISO_8859_1)
                    : readChunkedRaw(in));
            Wire.send(socket, "HTTP/1.1 204 No Content\r\n\r\n");
        }));
        harness.allow("web.test:" + web.port()).pinToLoopback("web.test").start();
        String url = "http://web.test:" + web.port() + "/upload";

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "POST " + url + " HTTP/1.1\r\nHost: web.test\r\nContent-Length: 11\r\n\r\nhello world");
            assertEquals(204, Wire.status(Wire.readHead(client.getInputStream())));
        }
        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "POST " + url + " HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
            assertEquals(204, Wire.status(Wire.readHead(client.getInputStream())));
        }

        assertEquals("hello world", bodies.poll(5, TimeUnit.SECONDS));
        assertEquals("5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", bodies.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void aStreamedHttpResponseArrivesBeforeTheServerIsDone() throws Exception {
        CountDownLatch serverMayFinish = new CountDownLatch(1);
        TestServer web = track(TestServer.start(socket -> {
            Wire.readHead(socket.getInputStream());
            Wire.send(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n");
            serverMayFinish.await(10, TimeUnit.SECONDS);
            Wire.send(socket, "7\r\nsecond\n\r\n0\r\n\r\n");
        }));
        harness.allow("web.test:" + web.port()).pinToLoopback("web.test").start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "GET http://web.test:" + web.port() + "/events HTTP/1.1\r\nHost: web.test\r\n\r\n");
            InputStream in = client.getInputStream();
            assertEquals(200, Wire.status(Wire.readHead(in)));
            assertEquals("6\r\nfirst\n\r\n", new String(TestServer.readExactly(in, 11), ISO_8859_1));
            assertEquals(1, serverMayFinish.getCount(), "the first chunk arrived while the server was still waiting");
            serverMayFinish.countDown();
            assertEquals("7\r\nsecond\n\r\n0\r\n\r\n", new String(in.readAllBytes(), ISO_8859_1));
        }
    }

    @Test
    void interimResponsesPassThroughBeforeTheBody() throws Exception {
        TestServer web = track(TestServer.start(socket -> {
            InputStream in = socket.getInputStream();
            Wire.readHead(in);
            Wire.send(socket, "HTTP/1.1 100 Continue\r\n\r\n");
            String body = new String(TestServer.readExactly(in, 4), ISO_8859_1);
            Wire.send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + body);
        }));
        harness.allow("web.test:" + web.port()).pinToLoopback("web.test").start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "PUT http://web.test:" + web.port() + "/ HTTP/1.1\r\nHost: web.test\r\n"
                    + "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n");
            InputStream in = client.getInputStream();
            assertEquals(100, Wire.status(Wire.readHead(in)));
            Wire.send(client, "data");
            String head = Wire.readHead(in);
            assertEquals(200, Wire.status(head));
            assertEquals("data", Wire.readBody(in, head));
        }
    }

    @Test
    void aRequestTheServerCouldFrameDifferentlyIsRefusedBeforeConnecting() throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.allow("canary.test:" + canary.port()).pinToLoopback("canary.test").start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "POST http://canary.test:" + canary.port() + "/ HTTP/1.1\r\nHost: canary.test\r\n"
                    + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            String head = Wire.readHead(client.getInputStream());
            assertEquals(400, Wire.status(head), head);
            assertTrue(Wire.readBody(client.getInputStream(), head).contains("both Transfer-Encoding and Content-Length"));
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertTrue(event.reason().startsWith("malformed request: "), event.reason());
        assertEquals(0, canary.connections());
    }

    @Test
    void aServerThatDoesNotSpeakHttpGetsTheClientA502() throws Exception {
        TestServer notHttp = track(TestServer.start(socket -> Wire.send(socket, "SSH-2.0-OpenSSH\r\n\r\n")));
        harness.allow("odd.test:" + notHttp.port()).pinToLoopback("odd.test").start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "GET http://odd.test:" + notHttp.port() + "/ HTTP/1.1\r\nHost: odd.test\r\n\r\n");
            String head = Wire.readHead(client.getInputStream());
            assertEquals(502, Wire.status(head), head);
        }
    }

    @Test
    void aNameWithoutAddressesGetsA502AndAnAuditLineSayingWhy() throws Exception {
        harness.allow("nowhere.test:8443").start();

        try (Socket client = harness.openExplicit()) {
            String head = Wire.connect(client, "nowhere.test:8443");
            assertEquals(502, Wire.status(head), head);
            assertTrue(Wire.readBody(client.getInputStream(), head).contains("cannot resolve nowhere.test"));
        }

        AuditEvent event = harness.awaitAudit(e -> "nowhere.test".equals(e.destination()));
        assertTrue(event.reason().startsWith("cannot resolve nowhere.test"), event.reason());
        assertEquals(0L, event.bytesSent());
        assertTrue(harness.dialed().isEmpty());
    }

    @Test
    void anUpstreamThatRefusesGetsA502() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        harness.allow("down.test:" + closedPort).pinToLoopback("down.test").start();

        try (Socket client = harness.openExplicit()) {
            String head = Wire.connect(client, "down.test:" + closedPort);
            assertEquals(502, Wire.status(head), head);
        }

        AuditEvent event = harness.awaitAudit(e -> "down.test".equals(e.destination()));
        assertEquals(AuditEvent.ALLOWED, event.decision());
        assertTrue(event.reason().startsWith("cannot connect to down.test:" + closedPort), event.reason());
    }

    @Test
    void garbageIsAnsweredWith400AndAudited() throws Exception {
        harness.start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "HELLO THERE\r\n\r\n");
            assertEquals(400, Wire.status(Wire.readHead(client.getInputStream())));
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertNull(event.destination());
        assertTrue(event.reason().contains("not an HTTP/1.x request line"), event.reason());
    }

    /** The chunked body as it came, up to and including the blank line after the last chunk. */
    private static String readChunkedRaw(InputStream in) throws IOException {
        StringBuilder raw = new StringBuilder();
        while (!(raw.indexOf("\r\n0\r\n") >= 0 && raw.toString().endsWith("\r\n\r\n"))) {
            int b = in.read();
            if (b < 0 || raw.length() > 10_000) {
                throw new IOException("chunked body not terminated: " + raw);
            }
            raw.append((char) b);
        }
        return raw.toString();
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
