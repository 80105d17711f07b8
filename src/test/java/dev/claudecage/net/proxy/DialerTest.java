package dev.claudecage.net.proxy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DialerTest {

    private final Dialer dialer = Dialer.direct(Duration.ofSeconds(2));

    @Test
    void triesTheAddressesInOrderUntilOneAccepts() throws Exception {
        // The test server listens on 127.0.0.1 only, so its port on ::1 refuses.
        InetAddress refusing = ipv6Loopback();
        try (TestServer server = TestServer.canary();
             SocketChannel channel = dialer.connect(List.of(refusing, InetAddress.getLoopbackAddress()), server.port())) {
            assertEquals(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), channel.getRemoteAddress());
            assertTrue(channel.isBlocking());
        }
    }

    @Test
    void namesEveryAddressThatFailed() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        IOException e = assertThrows(IOException.class, () -> dialer.connect(
                List.of(InetAddress.getLoopbackAddress(), ipv6Loopback()), closedPort));
        assertTrue(e.getMessage().startsWith("127.0.0.1: "), e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertTrue(e.getSuppressed()[0].getMessage().startsWith("0:0:0:0:0:0:0:1: "), e.getSuppressed()[0].getMessage());
    }

    private static InetAddress ipv6Loopback() throws IOException {
        InetAddress address = InetAddress.getByName("::1");
        try (ServerSocket probe = new ServerSocket(0, 1, address)) {
            assumeTrue(probe.isBound(), "this host has no IPv6 loopback");
        } catch (IOException e) {
            assumeTrue(false, "this host has no IPv6 loopback");
        }
        return address;
    }
}
