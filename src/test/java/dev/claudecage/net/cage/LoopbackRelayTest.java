package dev.claudecage.net.cage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackRelayTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;

    /** A port nothing listens on now, over UDP or TCP. */
    private static int freePort(boolean udp) throws Exception {
        if (udp) {
            try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
                return probe.getLocalPort();
            }
        }
        try (ServerSocket probe = new ServerSocket(0, 1, LOOPBACK)) {
            return probe.getLocalPort();
        }
    }

    /** Sends {@code text} from a socket of its own (a port of its own, as a resolver does) and waits up to {@code millis} for the reply. */
    private static String ask(int port, String text, int millis) throws Exception {
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            client.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress(LOOPBACK, port)));
            client.setSoTimeout(millis);
            byte[] buffer = new byte[2048];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            client.receive(reply);
            return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
        }
    }

    private static long exchangeThreads(int port) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("relay-" + port + "-udp-"))
                .count();
    }

    @Test
    void aRouteIsWrittenAndReadBackAsTheCommandLineTakesIt() {
        LoopbackRelay.Route route = new LoopbackRelay.Route(true, 53, Path.of("/run/user/1000/net/dns-udp.sock"));
        assertEquals("udp:53:/run/user/1000/net/dns-udp.sock", route.argument());
        assertEquals(route, LoopbackRelay.Route.parse(route.argument()));
        assertThrows(IllegalArgumentException.class, () -> LoopbackRelay.Route.parse("sctp:53:/x"));
        assertThrows(IllegalArgumentException.class, () -> LoopbackRelay.Route.parse("tcp:70000:/x"));
        assertThrows(IllegalArgumentException.class, () -> LoopbackRelay.Route.parse("tcp:80:relative.sock"));
    }

    @Test
    void datagramsGoThroughTheBridgeAndTheirRepliesComeBackToEachSender() throws Exception {
        Path socket = dir.resolve("dns-udp.sock");
        int port = freePort(true);
        try (DatagramSocket service = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            UnixBridgeTest.upperCaseDatagrams(service);
            UnixBridge bridge = UnixBridge.toDatagram(socket, (InetSocketAddress) service.getLocalSocketAddress(), 4);
            LoopbackRelay relay = LoopbackRelay.start(LOOPBACK, List.of(new LoopbackRelay.Route(true, port, socket)), 4);
            try {
                assertEquals("QUERY ONE", ask(port, "query one", 5000));
                assertEquals("QUERY TWO", ask(port, "query two", 5000));
                assertThrows(SocketTimeoutException.class, () -> ask(port, "x".repeat(UnixBridge.MAX_DATAGRAM + 1), 500),
                        "larger than any datagram taken: dropped");
            } finally {
                relay.close();
                bridge.close();
            }
        }
    }

    /**
     * A flood of datagrams that the service never answers holds every exchange until the bridge's
     * deadline: the relay's threads stay at the route's bound, the excess is dropped, and once the
     * exchanges are over a query is answered again.
     */
    @Test
    void aFloodHoldsNoMoreExchangesThanTheBoundAndQueriesAreAnsweredAfterIt() throws Exception {
        Path socket = dir.resolve("dns-udp.sock");
        int port = freePort(true);
        int bound = 3;
        try (DatagramSocket service = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            UnixBridgeTest.upperCaseDatagrams(service);
            UnixBridge bridge = UnixBridge.toDatagram(socket, (InetSocketAddress) service.getLocalSocketAddress(), 64);
            LoopbackRelay relay = LoopbackRelay.start(LOOPBACK, List.of(new LoopbackRelay.Route(true, port, socket)), bound);
            try (DatagramSocket flooder = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
                long most = 0;
                for (int i = 0; i < 500; i++) {
                    byte[] bytes = ("drop " + i).getBytes(StandardCharsets.UTF_8);
                    flooder.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress(LOOPBACK, port)));
                    most = Math.max(most, exchangeThreads(port));
                }
                Thread.sleep(200);
                most = Math.max(most, exchangeThreads(port));
                assertTrue(most >= 1, "the count never found an exchange thread, so it could not see too many either");
                assertTrue(most <= bound, most + " exchanges at once, bound " + bound);
                // The held exchanges end at the bridge's deadline; then queries get through again (bounded wait).
                String answer = null;
                long deadline = System.nanoTime() + UnixBridge.DATAGRAM_EXCHANGE.multipliedBy(3).toNanos();
                while (answer == null && System.nanoTime() < deadline) {
                    try {
                        answer = ask(port, "after", 1000);
                    } catch (SocketTimeoutException stillBusy) {
                        // Dropped while the exchanges were taken; ask again.
                    }
                }
                assertEquals("AFTER", answer);
            } finally {
                relay.close();
                bridge.close();
            }
        }
    }

    @Test
    void connectionsGoThroughTheBridgeBothWays() throws Exception {
        Path socket = dir.resolve("proxy.sock");
        int port = freePort(false);
        try (ServerSocket service = new ServerSocket(0, 4, LOOPBACK)) {
            UnixBridge bridge = UnixBridge.toStream(socket, new InetSocketAddress(LOOPBACK, service.getLocalPort()), 4);
            LoopbackRelay relay = LoopbackRelay.start(LOOPBACK, List.of(new LoopbackRelay.Route(false, port, socket)), 4);
            try {
                Thread served = UnixBridgeTest.upperCaseService(service);
                try (Socket client = new Socket(LOOPBACK, port)) {
                    client.getOutputStream().write("connect host:443".getBytes(StandardCharsets.UTF_8));
                    // The end of the request must reach the service, or it would wait forever.
                    client.shutdownOutput();
                    InputStream in = client.getInputStream();
                    assertEquals("CONNECT HOST:443", new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
                served.join(5000);
            } finally {
                relay.close();
                bridge.close();
            }
        }
    }
}
