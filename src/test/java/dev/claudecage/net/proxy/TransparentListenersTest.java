package dev.claudecage.net.proxy;

import dev.claudecage.testing.TlsClientHello;
import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listeners for clients that ignore the proxy variables: the cage's DNS stub answers allowed
 * names with the gateway, so such a client connects to port 443 or 80 there, and the proxy decides
 * by the TLS server name or the Host field. The test servers stand in for port 443 and 80 upstream.
 */
class TransparentListenersTest extends ProxyTestBase {

    @Test
    void tlsIsDecidedBySniAndTheClientHelloReachesTheServerByteForByte() throws Exception {
        byte[] hello = TlsClientHello.of("tls.test");
        BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        TestServer server = track(TestServer.start(socket -> {
            received.add(TestServer.readExactly(socket.getInputStream(), hello.length));
            Wire.send(socket, "server flight");
            socket.getInputStream().transferTo(socket.getOutputStream());
        }));
        harness.allow("tls.test").pinToLoopback("tls.test").route(443, server.port()).start();

        try (Socket client = harness.openTransparentTls()) {
            client.getOutputStream().write(hello);
            assertEquals("server flight", new String(TestServer.readExactly(client.getInputStream(), 13), ISO_8859_1));
            Wire.send(client, "after the hello");
            assertEquals("after the hello", new String(TestServer.readExactly(client.getInputStream(), 15), ISO_8859_1));
        }

        assertArrayEquals(hello, received.poll(5, TimeUnit.SECONDS));
        assertEquals(List.of("127.0.0.1:443"), harness.dialed());
        AuditEvent event = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertEquals("tls.test", event.destination());
        assertEquals(443, event.port());
        assertEquals((long) hello.length + 15, event.bytesSent());
    }

    @Test
    void aClientHelloSplitOverTwoRecordsAndManyWritesIsReadWhole() throws Exception {
        byte[] hello = splitIntoTwoRecords(TlsClientHello.of("tls.test"), 40);
        BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        TestServer server = track(TestServer.start(socket ->
                received.add(TestServer.readExactly(socket.getInputStream(), hello.length))));
        harness.allow("tls.test").pinToLoopback("tls.test").route(443, server.port()).start();

        try (Socket client = harness.openTransparentTls()) {
            for (int offset = 0; offset < hello.length; offset += 7) {
                client.getOutputStream().write(hello, offset, Math.min(7, hello.length - offset));
                client.getOutputStream().flush();
            }
            byte[] forwarded = received.poll(5, TimeUnit.SECONDS);
            assertArrayEquals(hello, forwarded);
        }
    }

    @Test
    void aRealJdkTlsClientIsRoutedByItsServerName() throws Exception {
        BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        TestServer server = track(TestServer.start(socket -> {
            InputStream in = socket.getInputStream();
            byte[] header = TestServer.readExactly(in, 5);
            byte[] body = TestServer.readExactly(in, (header[3] & 0xff) << 8 | header[4] & 0xff);
            ByteArrayOutputStream record = new ByteArrayOutputStream();
            record.write(header);
            record.write(body);
            received.add(record.toByteArray());
            // Closing here ends the client's handshake: no certificate is needed for this test.
        }));
        harness.allow("tls.test").pinToLoopback("tls.test").route(443, server.port()).start();

        try (Socket plain = harness.openTransparentTls();
             SSLSocket tls = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault())
                     .createSocket(plain, "tls.test", 443, false)) {
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName("tls.test")));
            tls.setSSLParameters(parameters);
            assertThrows(IOException.class, tls::startHandshake);
        }

        byte[] record = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(record, "the ClientHello never reached the server");
        assertEquals(22, record[0], "a TLS handshake record");
        assertTrue(new String(record, ISO_8859_1).contains("tls.test"), "the server name travels in the hello");
    }

    @Test
    void tlsWithoutSniIsRefusedWithAnAlertAndReachesNothing() throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.allow("tls.test").pinToLoopback("tls.test").route(443, canary.port()).start();

        try (Socket client = harness.openTransparentTls()) {
            client.getOutputStream().write(TlsClientHello.of(null));
            assertArrayEquals(TlsClientHello.ACCESS_DENIED, client.getInputStream().readAllBytes());
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertTrue(event.reason().contains("no SNI"), event.reason());
        assertEquals(0, canary.connections());
    }

    @Test
    void tlsToANameNotAllowedIsRefusedAndReachesNothing() throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.allow("tls.test").pinToLoopback("tls.test").pinToLoopback("canary.test")
                .route(443, canary.port()).start();

        try (Socket client = harness.openTransparentTls()) {
            client.getOutputStream().write(TlsClientHello.of("canary.test"));
            assertArrayEquals(TlsClientHello.ACCESS_DENIED, client.getInputStream().readAllBytes());
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertEquals("canary.test", event.destination());
        assertEquals(443, event.port());
        assertEquals("canary.test is not in allowed_hosts", event.reason());
        assertEquals(0, canary.connections());
    }

    @Test
    void plainHttpOnPort80IsDecidedByTheHostField() throws Exception {
        BlockingQueue<String> requests = new LinkedBlockingQueue<>();
        TestServer web = track(TestServer.start(socket -> {
            requests.add(Wire.readHead(socket.getInputStream()));
            Wire.send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }));
        harness.allow("web.test:80").pinToLoopback("web.test").route(80, web.port()).start();

        try (Socket client = harness.openTransparentHttp()) {
            Wire.send(client, "GET /index.html HTTP/1.1\r\nHost: web.test\r\nConnection: keep-alive\r\n\r\n");
            String head = Wire.readHead(client.getInputStream());
            assertEquals(200, Wire.status(head), head);
            assertEquals("ok", Wire.readBody(client.getInputStream(), head));
        }

        String upstream = requests.poll(5, TimeUnit.SECONDS);
        assertNotNull(upstream);
        assertTrue(upstream.startsWith("GET /index.html HTTP/1.1\r\n"), upstream);
        assertEquals("web.test", Wire.header(upstream, "Host"));
        assertEquals("close", Wire.header(upstream, "Connection"));
        assertEquals(List.of("127.0.0.1:80"), harness.dialed());
        AuditEvent event = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertEquals("web.test", event.destination());
        assertEquals(80, event.port());
    }

    @Test
    void plainHttpToANameNotAllowedGets403AndReachesNothing() throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.allow("web.test:80").pinToLoopback("web.test").pinToLoopback("canary.test")
                .route(80, canary.port()).start();

        try (Socket client = harness.openTransparentHttp()) {
            Wire.send(client, "GET / HTTP/1.1\r\nHost: canary.test\r\n\r\n");
            String head = Wire.readHead(client.getInputStream());
            assertEquals(403, Wire.status(head), head);
            assertTrue(Wire.readBody(client.getInputStream(), head)
                    .contains("GET http://canary.test denied: canary.test is not in allowed_hosts"));
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertEquals("canary.test", event.destination());
        assertEquals(80, event.port());
        assertEquals(0, canary.connections());
    }

    @Test
    void plainHttpWithAnIpLiteralHostIsRefused() throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.route(80, canary.port()).start();

        try (Socket client = harness.openTransparentHttp()) {
            Wire.send(client, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(403, Wire.status(Wire.readHead(client.getInputStream())));
        }

        assertTrue(harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision())).reason().contains("is an IP address"));
        assertEquals(0, canary.connections());
    }

    /** The same handshake bytes in two TLS records, split after {@code firstLength} bytes. */
    static byte[] splitIntoTwoRecords(byte[] oneRecord, int firstLength) {
        byte[] body = Arrays.copyOfRange(oneRecord, 5, oneRecord.length);
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        writeRecord(two, oneRecord, Arrays.copyOfRange(body, 0, firstLength));
        writeRecord(two, oneRecord, Arrays.copyOfRange(body, firstLength, body.length));
        return two.toByteArray();
    }

    private static void writeRecord(ByteArrayOutputStream out, byte[] template, byte[] body) {
        out.write(template[0]);
        out.write(template[1]);
        out.write(template[2]);
        out.write(body.length >> 8);
        out.write(body.length & 0xff);
        out.writeBytes(body);
    }
}
