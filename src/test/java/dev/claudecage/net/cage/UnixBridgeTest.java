package dev.claudecage.net.cage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
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
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class UnixBridgeTest {

    @TempDir
    Path dir;

    /** A TCP service that answers each connection with what it read, upper-cased, once the client has finished. */
    static Thread upperCaseService(ServerSocket server) {
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
            UnixBridge bridge = UnixBridge.toStream(socket, new InetSocketAddress(InetAddress.getLoopbackAddress(),
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

    /** A UDP service that answers each datagram with it upper-cased, and drops those that start with "drop". */
    static Thread upperCaseDatagrams(DatagramSocket service) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[2048];
            while (!service.isClosed()) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    service.receive(packet);
                    String text = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
                    if (!text.startsWith("drop")) {
                        byte[] reply = text.toUpperCase().getBytes(StandardCharsets.UTF_8);
                        service.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
                    }
                } catch (Exception closed) {
                    return;
                }
            }
        });
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** What the relay's child does with one packet: connect, write it whole, read the reply until the end. */
    private static String exchange(Path socket, String datagram) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(datagram.getBytes(StandardCharsets.UTF_8)));
            return new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void eachConnectionCarriesOneDatagramToTheServiceAndItsReplyBack() throws Exception {
        Path socket = dir.resolve("dns-udp.sock");
        try (DatagramSocket service = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            upperCaseDatagrams(service);
            UnixBridge bridge = UnixBridge.toDatagram(socket, (InetSocketAddress) service.getLocalSocketAddress(), 4);
            try {
                assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(socket));
                assertEquals("QUERY ONE", exchange(socket, "query one"));
                assertEquals("QUERY TWO", exchange(socket, "query two"));
                // Dropped by the service: the connection ends without a reply once the exchange's time is up.
                assertEquals("", assertTimeoutPreemptively(UnixBridge.DATAGRAM_EXCHANGE.multipliedBy(3),
                        () -> exchange(socket, "drop this")));
                // Larger than any datagram taken: dropped before it reaches the service.
                assertEquals("", exchange(socket, "x".repeat(UnixBridge.MAX_DATAGRAM + 1)));
            } finally {
                bridge.close();
            }
        }
        assertFalse(Files.exists(socket), "closing the bridge removes its socket");
    }
}
