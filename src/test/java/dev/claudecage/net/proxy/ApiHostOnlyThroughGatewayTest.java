package dev.claudecage.net.proxy;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.testing.TlsClientHello;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attack 7: with the API gateway holding the user's key, an agent that holds a key of its own must not
 * reach the API past the gateway. The API host is allowed in allowed_hosts on every port the test uses
 * and pinned to a canary, so a hole would reach it; every route the proxy has is tried, with the name
 * written every way a client might write it. The control: without the reservation the same requests
 * reach the canary.
 */
class ApiHostOnlyThroughGatewayTest extends ProxyTestBase {

    private static final String API = "api.anthropic.com";
    private static final String REASON = "the API gateway holds your key: api.anthropic.com only through it";

    private TestServer startWithCanary(boolean reserved) throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.allow(API).allow(API + ":80").allow(API + ":" + canary.port()).pinToLoopback(API)
                .route(443, canary.port()).route(80, canary.port());
        if (reserved) {
            harness.apiHost(API);
        }
        harness.start();
        return canary;
    }

    @Test
    void attack7TheApiHostIsRefusedByEveryRouteWhileTheGatewayHoldsTheKey() throws Exception {
        TestServer canary = startWithCanary(true);
        String port = String.valueOf(canary.port());
        int refusals = 0;
        for (String name : List.of(API, "API.Anthropic.COM", API + ".")) {
            for (String authority : List.of(name + ":443", name + ":" + port, name + ":80")) {
                try (Socket client = harness.openExplicit()) {
                    String head = Wire.connect(client, authority);
                    assertEquals(403, Wire.status(head), authority + ": " + head);
                    assertTrue(Wire.readBody(client.getInputStream(), head).contains(REASON), authority);
                }
            }
            try (Socket client = harness.openExplicit()) {
                Wire.send(client, "POST http://" + name + ":" + port + "/v1/files HTTP/1.1\r\nHost: " + name
                        + "\r\nContent-Length: 9\r\n\r\nworkspace");
                assertEquals(403, Wire.status(Wire.readHead(client.getInputStream())), name);
            }
            try (Socket client = harness.openTransparentHttp()) {
                Wire.send(client, "POST /v1/files HTTP/1.1\r\nHost: " + name + "\r\nContent-Length: 9\r\n\r\nworkspace");
                assertEquals(403, Wire.status(Wire.readHead(client.getInputStream())), name);
            }
            refusals += 5;
            if (name.endsWith(".")) {
                continue;   // a TLS server name never ends in a dot
            }
            try (Socket client = harness.openTransparentTls()) {
                client.getOutputStream().write(TlsClientHello.of(name));
                assertArrayEquals(TlsClientHello.ACCESS_DENIED,
                        TestServer.readExactly(client.getInputStream(), TlsClientHello.ACCESS_DENIED.length),
                        name);
            }
            refusals++;
        }

        assertEquals(0, canary.connections(), "the API's stand-in was reached");
        assertTrue(harness.dialed().isEmpty(), harness.dialed().toString());
        AuditEvent last = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()) && e.reason().equals(REASON)
                && e.port() != null && e.port() == 443 && e.destination().equals("api.anthropic.com."));
        assertEquals("proxy", last.source());
        assertEquals(refusals, harness.auditEvents().stream().filter(e -> REASON.equals(e.reason())).count(),
                harness.auditEvents().toString());
    }

    @Test
    void controlWithoutTheGatewayTheSameRequestsReachTheApi() throws Exception {
        TestServer canary = startWithCanary(false);
        try (Socket client = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(client, API + ":" + canary.port())));
        }
        try (Socket client = harness.openTransparentTls()) {
            client.getOutputStream().write(TlsClientHello.of(API));
            client.getOutputStream().flush();
            harness.awaitOpenConnections(1);
        }

        long deadline = System.nanoTime() + ProxyHarness.AUDIT_WAIT.toNanos();
        while (canary.connections() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(2, canary.connections(), "control: without the gateway the API is reachable");
    }
}
