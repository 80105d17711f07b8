package dev.claudecage.session;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class FramesTest {

    @Test
    void framesCrossAUnixSocketIntact(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("s.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                 SocketChannel accepted = server.accept()) {
                Frames out = new Frames(client);
                Frames in = new Frames(accepted);
                byte[] big = new byte[300_000];
                for (int i = 0; i < big.length; i++) {
                    big[i] = (byte) i;
                }
                // More than a socket buffer holds: the writer needs its own thread, as in the supervisor.
                var writer = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try {
                        out.write(Frames.HELLO_ATTACH, Frames.size(50, 200));
                        out.write(Frames.DATA, big);
                        out.write(Frames.EXIT, Frames.exit(7, "exited(7)"));
                        client.shutdownOutput();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                Frames.Frame hello = in.read();
                assertEquals(Frames.HELLO_ATTACH, hello.type());
                assertEquals(50, hello.shortAt(0));
                assertEquals(200, hello.shortAt(2));
                assertArrayEquals(big, in.read().payload());
                Frames.Frame exit = in.read();
                assertEquals(7, exit.intAt(0));
                assertEquals("exited(7)", new String(exit.payload(), 4, exit.payload().length - 4));
                assertNull(in.read(), "the end of the stream is a null frame");
                writer.get(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }
}
