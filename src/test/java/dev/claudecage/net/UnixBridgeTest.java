package dev.claudecage.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class UnixBridgeTest {

    @TempDir
    Path dir;

    /** A TCP service that answers each connection with what it read, upper-cased, once the client has finished. */
    private static Thread upperCaseService(ServerSocket server) {
        Thread thread = new Thread(() -> {
            try (Socket client = server.accept()) {
                byte[] request = client.getInputStream().readAllBytes();
                OutputStream out = client.getOutputStream();
                out.write(new String(request, StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    @Test
    void aConnectionToTheSocketReachesTheServiceBothWaysAndOnlyTheOwnerMayConnect() throws Exception {
        Path socket = dir.resolve("proxy.sock");
        try (ServerSocket service = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            UnixBridge bridge = UnixBridge.start(socket, new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    service.getLocalPort()), 4);
            try {
                Thread served = upperCaseService(service);
                assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(socket));
                try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    channel.connect(UnixDomainSocketAddress.of(socket));
                    channel.write(ByteBuffer.wrap("get / http/1.1".getBytes(StandardCharsets.UTF_8)));
                    // The end of the request must reach the service, or it would wait forever.
                    channel.shutdownOutput();
                    InputStream in = Channels.newInputStream(channel);
                    assertEquals("GET / HTTP/1.1", new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
                served.join(5000);
            } finally {
                bridge.close();
            }
        }
        assertFalse(Files.exists(socket), "closing the bridge removes its socket");
    }
}
