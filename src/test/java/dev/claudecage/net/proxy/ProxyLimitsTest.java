package dev.claudecage.net.proxy;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.testing.TlsClientHello;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The cage's limits (egress bytes, open connections), the timeouts, and stopping the proxy. */
class ProxyLimitsTest extends ProxyTestBase {

    @Test
    void passingTheEgressLimitCutsOffEveryConnectionAndRefusesNewOnes() throws Exception {
        int limit = 64 * 1024;
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").limits(limit, 64).start();
        String target = "allowed.test:" + echo.port();

        try (Socket quiet = harness.openExplicit(); Socket busy = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(quiet, target)));
            assertEquals(200, Wire.status(Wire.connect(busy, target)));
            busy.getOutputStream().write(new byte[100 * 1024]);
            int echoed = Wire.drain(busy);

            assertTrue(echoed < limit, "echoed " + echoed);
            assertTrue(Wire.closedByPeer(quiet), "the idle connection was cut off too");
            assertEquals(limit, harness.proxy().bytesRelayed(), "exactly the limit passed, not a byte more");
            assertTrue(harness.proxy().isCutOff());
        }
        try (Socket late = harness.openExplicit()) {
            String head = Wire.connect(late, target);
            assertEquals(403, Wire.status(head), head);
            assertTrue(Wire.readBody(late.getInputStream(), head).contains("the egress limit of 64k was passed"));
        }

        AuditEvent denied = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertEquals("allowed.test", denied.destination());
        assertTrue(denied.reason().startsWith("the egress limit of 64k was passed"), denied.reason());
        harness.awaitAudit(e -> AuditEvent.CUT_OFF.equals(e.decision()) && e.bytesSent() == 0);
        AuditEvent cut = harness.awaitAudit(e -> AuditEvent.CUT_OFF.equals(e.decision()) && e.bytesSent() > 0);
        assertEquals("the egress limit of 64k was passed", cut.reason());
        long counted = harness.auditEvents().stream().filter(e -> e.bytesSent() != null)
                .mapToLong(e -> e.bytesSent() + e.bytesReceived()).sum();
        assertEquals(limit, counted, "the audit lines account for every byte");
    }

    @Test
    void beyondTheConnectionCapNewConnectionsGet429UntilOneCloses() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").limits(1L << 30, 2).start();
        String target = "allowed.test:" + echo.port();

        Socket first = track(harness.openExplicit());
        try (Socket second = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(first, target)));
            assertEquals(200, Wire.status(Wire.connect(second, target)));
            try (Socket third = harness.openExplicit()) {
                String head = Wire.connect(third, target);
                assertEquals(429, Wire.status(head), head);
                assertTrue(Wire.readBody(third.getInputStream(), head).contains("the connection limit of 2"));
            }
            try (Socket tls = harness.openTransparentTls()) {
                tls.getOutputStream().write(TlsClientHello.of("allowed.test"));
                assertArrayEquals(TlsClientHello.ACCESS_DENIED, tls.getInputStream().readAllBytes(),
                        "a transparent connection over the cap gets an alert and is closed");
            }
            first.close();
            harness.awaitOpenConnections(1);
            try (Socket fourth = harness.openExplicit()) {
                assertEquals(200, Wire.status(Wire.connect(fourth, target)));
            }
        }

        AuditEvent refused = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision())
                && Integer.valueOf(echo.port()).equals(e.port()));
        assertEquals("allowed.test", refused.destination());
        assertEquals(echo.port(), refused.port());
        assertTrue(refused.reason().startsWith("the connection limit of 2"), refused.reason());
        assertEquals(3, echo.awaitConnections(3));
        assertEquals(3, harness.dialed().size(), "the refused connections never reached the server");
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeoutAndAnActiveOneIsNot() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test")
                .tune(settings -> settings.withIdleTimeout(Duration.ofMillis(300))).start();
        String target = "allowed.test:" + echo.port();

        try (Socket active = harness.openExplicit(); Socket silent = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(active, target)));
            assertEquals(200, Wire.status(Wire.connect(silent, target)));
            for (int i = 0; i < 8; i++) {
                Wire.send(active, "x");
                assertEquals('x', active.getInputStream().read());
                Thread.sleep(100);
            }
            // The active one outlived the idle timeout more than twice over.
            assertTrue(Wire.closedByPeer(silent));
            Wire.send(active, "still here");
            assertEquals("still here", new String(TestServer.readExactly(active.getInputStream(), 10), ISO_8859_1));
        }

        AuditEvent idle = harness.awaitAudit(e -> e.reason() != null && e.reason().contains("idle"));
        assertEquals(AuditEvent.ALLOWED, idle.decision());
        assertEquals("closed after 300 ms idle", idle.reason());
        assertEquals(0L, idle.bytesSent());
    }

    @Test
    void aClientThatNeverFinishesAskingIsClosedAfterTheHandshakeTimeout() throws Exception {
        harness.tune(settings -> settings.withHandshakeTimeout(Duration.ofMillis(300))).start();

        try (Socket client = harness.openExplicit()) {
            Wire.send(client, "CONNECT allowed.te");
            assertTrue(Wire.closedByPeer(client));
        }

        AuditEvent event = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertTrue(event.reason().startsWith("no complete request within"), event.reason());
    }

    @Test
    void stoppingTheProxyEndsItsConnectionsAndFreesItsPorts() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").start();
        int port = harness.proxy().httpProxyPort();

        try (Socket client = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(client, "allowed.test:" + echo.port())));
            harness.proxy().close();
            assertTrue(Wire.closedByPeer(client));
        }

        assertThrows(ConnectException.class, () -> Wire.open(port).close());
        AuditEvent event = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertEquals("the proxy stopped", event.reason());
        awaitNoProxyThreads();
    }

    @Test
    void listensOnIpv4AndIpv6GatewaysWithOnePortAndOneSetOfLimits() throws Exception {
        InetAddress ipv6Loopback = InetAddress.getByName("::1");
        assumeTrue(canBind(ipv6Loopback), "this host has no IPv6 loopback");
        TestServer echo = track(TestServer.echo());
        harness.allow("allowed.test:" + echo.port()).pinToLoopback("allowed.test").limits(1L << 30, 1)
                .bindTo(List.of(InetAddress.getLoopbackAddress(), ipv6Loopback)).start();
        String target = "allowed.test:" + echo.port();

        try (Socket overIpv6 = Wire.open(ipv6Loopback, harness.proxy().httpProxyPort())) {
            assertEquals(200, Wire.status(Wire.connect(overIpv6, target)));
            try (Socket overIpv4 = harness.openExplicit()) {
                assertEquals(429, Wire.status(Wire.connect(overIpv4, target)), "the cap counts both families");
            }
        }
    }

    private static void awaitNoProxyThreads() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("egress-proxy"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("proxy threads left running: " + Thread.getAllStackTraces().keySet());
            }
            Thread.sleep(10);
        }
    }

    private static boolean canBind(InetAddress address) {
        try (ServerSocket probe = new ServerSocket(0, 1, address)) {
            return probe.isBound();
        } catch (IOException e) {
            return false;
        }
    }
}
