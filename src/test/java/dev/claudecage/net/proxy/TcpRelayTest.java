package dev.claudecage.net.proxy;

import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TCP relays for allowed_hosts entries on ports other than 80 and 443: the port the cage connects to picks
 * the destination, which the proxy's gatekeeper decides, resolves and meters as it would a CONNECT. Upstream is
 * the test's own servers on loopback (the harness's dialer reaches nothing else).
 */
class TcpRelayTest extends ProxyTestBase {

    private static final int DB_PORT = 5432;
    private static final int SSH_PORT = 22;

    @Test
    void bytesSentToARelayReachItsEntryAndComeBackCountedAndAudited() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.relay("db.test", DB_PORT).pinToLoopback("db.test").route(DB_PORT, echo.port()).start();
        byte[] sent = new byte[300_000];
        Arrays.fill(sent, (byte) 'q');

        try (Socket client = harness.openRelay("db.test", DB_PORT)) {
            client.getOutputStream().write(sent);
            client.shutdownOutput();
            assertArrayEquals(sent, client.getInputStream().readAllBytes(), "the bytes came back whole, then the close");
        }

        AuditEvent line = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertEquals(EgressProxy.RELAY_AUDIT_SOURCE, line.source());
        assertEquals("db.test", line.destination());
        assertEquals(DB_PORT, line.port());
        assertEquals(sent.length, line.bytesSent());
        assertEquals(sent.length, line.bytesReceived());
        assertTrue(line.reason().matches("relayed for [0-9]+\\.[0-9] s"), line.reason());
        assertEquals(2L * sent.length, harness.proxy().bytesRelayed(), "the relay spends the cage's egress budget");
    }

    /** Two entries, each on its own relay port: the port alone picks which one the bytes go to. */
    @Test
    void eachRelayLeadsToItsOwnEntryOnly() throws Exception {
        TestServer db = track(TestServer.start(socket -> socket.getOutputStream().write("db".getBytes(ISO_8859_1))));
        TestServer git = track(TestServer.start(socket -> socket.getOutputStream().write("SSH-2.0".getBytes(ISO_8859_1))));
        harness.relay("db.test", DB_PORT).relay("git.test", SSH_PORT).pinToLoopback("db.test").pinToLoopback("git.test")
                .route(DB_PORT, db.port()).route(SSH_PORT, git.port()).start();

        try (Socket toGit = harness.openRelay("git.test", SSH_PORT); Socket toDb = harness.openRelay("db.test", DB_PORT)) {
            assertEquals("SSH-2.0", new String(toGit.getInputStream().readAllBytes(), ISO_8859_1));
            assertEquals("db", new String(toDb.getInputStream().readAllBytes(), ISO_8859_1));
        }
        assertEquals(1, db.connections());
        assertEquals(1, git.connections());
    }

    /**
     * DNS rebinding through a relay: an allowed name that resolves to a private address is refused before any
     * connection, as the proxy refuses it. The canary sits where the dialer would have gone and hears nothing;
     * a pinned name (the user's own choice) reaches the same canary, the positive control.
     */
    @Test
    void aRelayRefusesAnEntryThatResolvesToAPrivateAddressAndConnectsNowhere() throws Exception {
        TestServer canary = track(TestServer.canary());
        harness.relay("rebind.test", DB_PORT).dnsAnswer("rebind.test", InetAddress.getByName("10.20.30.40"))
                .relay("pinned.test", SSH_PORT).pinToLoopback("pinned.test")
                .route(DB_PORT, canary.port()).route(SSH_PORT, canary.port()).start();

        try (Socket client = harness.openRelay("rebind.test", DB_PORT)) {
            client.getOutputStream().write("secret".getBytes(ISO_8859_1));
            assertTrue(Wire.closedByPeer(client), "the relay closed the refused connection");
        }
        AuditEvent denied = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertEquals(EgressProxy.RELAY_AUDIT_SOURCE, denied.source());
        assertEquals("rebind.test", denied.destination());
        assertEquals(DB_PORT, denied.port());
        assertTrue(denied.reason().contains("10.20.30.40, a private"), denied.reason());
        assertEquals(0, canary.connections(), "nothing reached the canary");
        assertTrue(harness.dialed().isEmpty(), "the proxy dialled nothing: " + harness.dialed());

        try (Socket control = harness.openRelay("pinned.test", SSH_PORT)) {
            control.getOutputStream().write("hello".getBytes(ISO_8859_1));
            assertEquals(1, canary.awaitConnections(1), "the positive control reaches the canary");
        }
    }

    @Test
    void aRelayStopsAtTheEgressLimitAndCutsTheCageOff() throws Exception {
        int limit = 64 * 1024;
        TestServer echo = track(TestServer.echo());
        harness.relay("db.test", DB_PORT).pinToLoopback("db.test").route(DB_PORT, echo.port()).limits(limit, 64).start();

        try (Socket client = harness.openRelay("db.test", DB_PORT)) {
            client.getOutputStream().write(new byte[100 * 1024]);
            int echoed = Wire.drain(client);
            assertTrue(echoed < limit, "echoed " + echoed);
        }
        assertEquals(limit, harness.proxy().bytesRelayed(), "exactly the limit passed, not a byte more");
        AuditEvent cut = harness.awaitAudit(e -> AuditEvent.CUT_OFF.equals(e.decision()));
        assertEquals(EgressProxy.RELAY_AUDIT_SOURCE, cut.source());
        assertTrue(cut.reason().endsWith("the egress limit of 64k was passed"), cut.reason());
        assertEquals(limit, cut.bytesSent() + cut.bytesReceived());

        try (Socket late = harness.openRelay("db.test", DB_PORT)) {
            assertTrue(Wire.closedByPeer(late), "a cut-off cage's next relay connection is closed at once");
        }
        AuditEvent refused = harness.awaitAudit(e -> AuditEvent.DENIED.equals(e.decision()));
        assertEquals("db.test", refused.destination(), "the refusal names the relay's entry");
        assertTrue(refused.reason().startsWith("the egress limit of 64k was passed"), refused.reason());
        assertEquals(1, echo.connections(), "the refused connection never reached the server");
    }

    @Test
    void aSilentRelayConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.relay("db.test", DB_PORT).pinToLoopback("db.test").route(DB_PORT, echo.port())
                .tune(settings -> settings.withIdleTimeout(Duration.ofMillis(300))).start();

        try (Socket client = harness.openRelay("db.test", DB_PORT)) {
            assertTrue(Wire.closedByPeer(client));
        }

        AuditEvent idle = harness.awaitAudit(e -> AuditEvent.ALLOWED.equals(e.decision()));
        assertTrue(idle.reason().endsWith("; closed after 300 ms idle"), idle.reason());
        assertEquals(0L, idle.bytesSent());
    }

    /** The explicit proxy still takes a CONNECT to the same entry: a relay adds a way in, it takes none away. */
    @Test
    void aRelayedEntryIsStillReachedThroughConnect() throws Exception {
        TestServer echo = track(TestServer.echo());
        harness.relay("db.test", DB_PORT).pinToLoopback("db.test").route(DB_PORT, echo.port()).start();

        try (Socket client = harness.openExplicit()) {
            assertEquals(200, Wire.status(Wire.connect(client, "db.test:" + DB_PORT)));
        }
        assertEquals(1, echo.awaitConnections(1));
    }
}
