package dev.claudecage.net.proxy;

import dev.claudecage.net.http.BodyFraming;
import dev.claudecage.net.http.HttpHead;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.util.List;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading requests: what the proxy decides on must be what the server will see. */
class ProxyRequestTest {

    @Test
    void connectNamesTheHostAndPortInLowerCase() throws Exception {
        ProxyRequest.Tunnel tunnel = assertInstanceOf(ProxyRequest.Tunnel.class,
                explicit("CONNECT Api.Example.COM:8443 HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertEquals("api.example.com", tunnel.host());
        assertEquals(8443, tunnel.port());
        assertTrue(tunnel.answerConnect());
        assertEquals(0, tunnel.preamble().length);
    }

    @Test
    void anAbsoluteUrlBecomesOriginFormWithItsAuthorityAsHost() throws Exception {
        ProxyRequest.Exchange exchange = assertInstanceOf(ProxyRequest.Exchange.class,
                explicit("GET http://Web.test?q=1 HTTP/1.0\r\nHost: other.test\r\nHost: third.test\r\n\r\n"));
        assertEquals("web.test", exchange.host());
        assertEquals(80, exchange.port());
        assertEquals("GET /?q=1 HTTP/1.0", exchange.head().startLine());
        assertEquals(List.of("Web.test"), exchange.head().values("Host"));
        assertEquals("GET http://web.test", exchange.summary());
    }

    @Test
    void anIpv6LiteralIsKeptWholeForTheGatekeeperToRefuse() throws Exception {
        ProxyRequest request = explicit("CONNECT [::1]:8080 HTTP/1.1\r\n\r\n");
        assertEquals("[::1]", request.host());
        assertEquals(8080, request.port());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "CONNECT web.test HTTP/1.1                    | CONNECT needs host:port",
        "CONNECT web.test:0 HTTP/1.1                  | invalid port",
        "CONNECT web.test:65536 HTTP/1.1              | invalid port",
        "GET http://allowed.test@evil.test/ HTTP/1.1  | user information in the address is not accepted",
        "GET https://web.test/ HTTP/1.1               | https:// URLs go through CONNECT",
        "GET /index.html HTTP/1.1                     | a proxy request needs CONNECT or an absolute http:// URL",
        "GET http://web.test/ HTTP/2.0                | not an HTTP/1.x request line",
        "GET  http://web.test/ HTTP/1.1               | not an HTTP/1.x request line",
    })
    void malformedProxyRequestsAreRefusedWithTheReason(String requestLine, String reason) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> explicit(requestLine + "\r\n\r\n"));
        assertTrue(e.getMessage().startsWith(reason), e.getMessage());
    }

    @Test
    void theTransparentListenerRoutesByHostAndAlwaysToPort80() throws Exception {
        ProxyRequest.Exchange exchange = assertInstanceOf(ProxyRequest.Exchange.class, ProxyRequest.readTransparentHttp(
                stream("GET /a HTTP/1.1\r\nHost: Web.Test:8080\r\nProxy-Authorization: x\r\n\r\n")));
        assertEquals("web.test", exchange.host());
        assertEquals(80, exchange.port());
        assertEquals(List.of("Web.Test:8080"), exchange.head().values("Host"));
        assertTrue(exchange.head().values("Proxy-Authorization").isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "GET /a HTTP/1.1\\r\\n                                   | no Host field",
        "GET /a HTTP/1.1\\r\\nHost: a.test\\r\\nHost: b.test\\r\\n  | more than one Host field",
        "GET http://a.test/ HTTP/1.1\\r\\nHost: a.test\\r\\n       | a request to port 80 needs a path",
    })
    void transparentRequestsMustNameOneHost(String head, String reason) {
        String request = head.replace("\\r\\n", "\r\n") + "\r\n";
        ProtocolException e = assertThrows(ProtocolException.class, () -> ProxyRequest.readTransparentHttp(stream(request)));
        assertTrue(e.getMessage().startsWith(reason), e.getMessage());
    }

    @Test
    void forOneHopDropsConnectionNamedFieldsButNeverTheFraming() throws Exception {
        HttpHead head = HttpHead.read(stream("POST / HTTP/1.1\r\nHost: a\r\nConnection: X-A, Content-Length, Host\r\n"
                + "X-A: 1\r\nContent-Length: 3\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Foo: 1\r\n\r\n")).forOneHop();
        assertEquals(List.of("3"), head.values("Content-Length"));
        assertEquals(List.of("a"), head.values("Host"));
        assertEquals(List.of("close"), head.values("Connection"));
        for (String dropped : List.of("X-A", "TE", "Upgrade", "Proxy-Foo")) {
            assertTrue(head.values(dropped).isEmpty(), dropped);
        }
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "X: 1\\r\\n folded\\r\\n           | folded header lines are not accepted",
        "Bad Name: 1\\r\\n                 | malformed header line",
        "NoColon\\r\\n                     | malformed header line",
        "X: a\\rb\\r\\n                    | a bare CR or NUL in the header",
    })
    void headsThatServersMightReadDifferentlyAreRefused(String fields, String reason) {
        String head = "GET / HTTP/1.1\r\n" + fields.replace("\\r", "\r").replace("\\n", "\n") + "\r\n";
        ProtocolException e = assertThrows(ProtocolException.class, () -> HttpHead.read(stream(head)));
        assertTrue(e.getMessage().startsWith(reason), e.getMessage());
    }

    @Test
    void aHeadLargerThanTheLimitIsRefused() {
        String field = "X: " + "a".repeat(8000) + "\r\n";
        String head = "GET / HTTP/1.1\r\n" + field.repeat(9) + "\r\n";
        assertThrows(ProtocolException.class, () -> HttpHead.read(stream(head)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "Content-Length: 5\\r\\nTransfer-Encoding: chunked    | both Transfer-Encoding and Content-Length",
        "Transfer-Encoding: gzip, chunked                     | unsupported Transfer-Encoding",
        "Content-Length: 5\\r\\nContent-Length: 6             | invalid Content-Length",
        "Content-Length: +5                                   | invalid Content-Length",
    })
    void ambiguousBodyFramingIsRefused(String fields, String reason) {
        String head = "POST / HTTP/1.1\r\n" + fields.replace("\\r\\n", "\r\n") + "\r\n\r\n";
        ProtocolException e = assertThrows(ProtocolException.class, () -> BodyFraming.of(HttpHead.read(stream(head))));
        assertTrue(e.getMessage().startsWith(reason), e.getMessage());
    }

    @Test
    void aChunkedBodyIsCopiedWithCleanSizesAndNothingAfterIt() throws Exception {
        InputStream in = stream("A;name=value\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT");
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        new BodyFraming(0, true).copy(in, out);

        assertEquals("a\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", out.toString(ISO_8859_1));
        assertEquals("NEXT", new String(in.readAllBytes(), ISO_8859_1));
    }

    @Test
    void aChunkLongerThanItsSizeIsRefused() {
        InputStream in = stream("3\r\nabcdef\r\n0\r\n\r\n");
        assertThrows(ProtocolException.class, () -> new BodyFraming(0, true).copy(in, new ByteArrayOutputStream()));
    }

    @Test
    void aFixedLengthBodyStopsAtItsLengthAndFailsWhenShort() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        InputStream in = stream("hello world");
        new BodyFraming(5, false).copy(in, out);
        assertEquals("hello", out.toString(ISO_8859_1));
        assertEquals(" world", new String(in.readAllBytes(), ISO_8859_1));

        assertThrows(EOFException.class, () -> new BodyFraming(50, false).copy(stream("short"), new ByteArrayOutputStream()));
    }

    @Test
    void aHeadIsWrittenBackAsItWasRead() throws Exception {
        String text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Empty: \r\n\r\n";
        HttpHead head = HttpHead.read(stream(text));
        assertEquals("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Empty: \r\n\r\n", new String(head.bytes(), ISO_8859_1));
        assertFalse(head.values("x-empty").isEmpty());
    }

    private static ProxyRequest explicit(String request) throws Exception {
        return ProxyRequest.readExplicit(stream(request));
    }

    private static InputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(ISO_8859_1));
    }
}
