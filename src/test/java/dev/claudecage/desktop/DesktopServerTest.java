package dev.claudecage.desktop;

import dev.claudecage.host.Host;
import dev.claudecage.host.Netns;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The forwarder against an echo server, entering this test's own network namespace (setns needs
 * root even for that; the desktop IT forwards into a real cage's namespace).
 */
class PortForwarderTest {

    @Test
    void copiesBothWaysHalfClosesAndStopsListeningWhenClosed() throws Exception {
        assumeTrue(Host.effectiveUid() == 0, "setns needs root (CAP_SYS_ADMIN), and this test runs as uid "
                + Host.effectiveUid());
        List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             Netns here = Netns.open(Path.of("/proc/thread-self/ns/net"))) {
            Thread server = new Thread(() -> {
                try (Socket client = echo.accept()) {
                    byte[] all = client.getInputStream().readAllBytes();
                    client.getOutputStream().write(("echo:" + new String(all, StandardCharsets.UTF_8)).getBytes(
                            StandardCharsets.UTF_8));
                } catch (java.io.IOException e) {
                    log.add("echo server: " + e);
                }
            });
            server.start();
            InetSocketAddress listen;
            try (PortForwarder forwarder = PortForwarder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                listen = forwarder.address();
                forwarder.start(PortForwarder.throughNamespace(here, echo.getLocalPort()), log::add);
                try (Socket client = new Socket(listen.getAddress(), listen.getPort())) {
                    OutputStream out = client.getOutputStream();
                    byte[] payload = new byte[300_000];
                    for (int i = 0; i < payload.length; i++) {
                        payload[i] = (byte) ('a' + i % 26);
                    }
                    out.write(payload);
                    // Half-close: the echo server sees the end of input and only then answers.
                    client.shutdownOutput();
                    InputStream in = client.getInputStream();
                    byte[] answer = in.readAllBytes();
                    byte[] expected = ("echo:" + new String(payload, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                    assertArrayEquals(expected, answer);
                }
                server.join(5000);
            }
            assertEquals(List.of(), log);
            assertThrows(java.net.ConnectException.class, () -> new Socket(listen.getAddress(), listen.getPort()).close());
        }
    }

    @Test
    void aPortInUseIsAClearError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dev.claudecage.CageException e = assertThrows(dev.claudecage.CageException.class,
                    () -> PortForwarder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort())));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:"
                    + taken.getLocalPort()), e.getMessage());
        }
    }
}
