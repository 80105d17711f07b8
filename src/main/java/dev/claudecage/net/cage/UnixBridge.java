package dev.claudecage.net.cage;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.net.AcceptLoop;
import dev.claudecage.net.ChannelCopy;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The host end of a rootless cage's way out: a Unix socket (in the cage's private network folder)
 * whose every connection is relayed to a service of the cage's on the host's loopback (its egress
 * proxy, API gateway or DNS stub). A Unix socket, unlike an address, crosses network namespaces:
 * the other end, inside the cage's namespace, is the {@link LoopbackRelay} from its loopback to this socket.
 * <ul>
 *   <li>{@link #toStream}: a TCP service; each connection is copied both ways until it ends.</li>
 *   <li>{@link #toDatagram}: a UDP service; each connection carries one datagram, which the relay
 *       writes whole: it goes to the service as one datagram, and the one reply comes back before
 *       the connection is closed (which ends the relay's exchange).</li>
 * </ul>
 */
public final class UnixBridge implements AutoCloseable {

    /** The largest datagram taken from the cage; a DNS query is a few hundred bytes. */
    static final int MAX_DATAGRAM = 4096;
    /** How long one datagram exchange may take, from the connection to the reply. */
    static final Duration DATAGRAM_EXCHANGE = Duration.ofSeconds(5);

    private final Path socket;
    private final AcceptLoop<SocketChannel> loop;
    private final ScheduledExecutorService deadlines;

    private UnixBridge(Path socket, AcceptLoop<SocketChannel> loop, ScheduledExecutorService deadlines) {
        this.socket = socket;
        this.loop = loop;
        this.deadlines = deadlines;
    }

    /** Listens on {@code socket} (owner-only) and relays each connection to the TCP service {@code target}. */
    public static UnixBridge toStream(Path socket, InetSocketAddress target, int maxConnections) {
        return start(socket, maxConnections, null, client -> relayStream(client, target));
    }

    /** Listens on {@code socket} (owner-only) and exchanges one datagram per connection with the UDP service {@code target}. */
    public static UnixBridge toDatagram(Path socket, InetSocketAddress target, int maxConnections) {
        ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("unix-bridge-deadline-" + socket.getFileName()));
        return start(socket, maxConnections, deadlines, client -> exchangeDatagram(client, target, deadlines));
    }

    private static UnixBridge start(Path socket, int maxConnections, ScheduledExecutorService deadlines,
                                    Consumer<SocketChannel> serve) {
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            // Connecting takes write permission on the socket: only the user (and its cage's root) may.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            // A bound on the bridge's own threads; the services' limits, lower, are the ones a cage meets.
            AcceptLoop<SocketChannel> loop = AcceptLoop.start("unix-bridge-" + socket.getFileName(), server,
                    server::accept, maxConnections, serve, refused -> { });
            return new UnixBridge(socket, loop, deadlines);
        } catch (IOException e) {
            if (deadlines != null) {
                deadlines.shutdownNow();
            }
            throw new CageException("cannot listen on " + socket + ": " + e.getMessage());
        }
    }

    /**
     * Copies {@code client} to a new connection to {@code target} (an address or a Unix socket) and
     * back, until both directions have ended.
     */
    static void relayStream(SocketChannel client, SocketAddress target) {
        try (client; SocketChannel upstream = SocketChannel.open(target)) {
            Thread back = DaemonThreads.start("unix-bridge-back", () -> ChannelCopy.untilEnd(upstream, client));
            ChannelCopy.untilEnd(client, upstream);
            back.join(TimeUnit.MINUTES.toMillis(10));
        } catch (IOException e) {
            // The service behind is gone (the cage is being torn down) or refused: the client sees the close.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void exchangeDatagram(SocketChannel client, InetSocketAddress target,
                                         ScheduledExecutorService deadlines) {
        // A relay that never writes (or a reply that never comes) holds a thread no longer than this.
        ScheduledFuture<?> deadline = deadlines.schedule(() -> Teardown.closeQuietly(client),
                DATAGRAM_EXCHANGE.toMillis(), TimeUnit.MILLISECONDS);
        try (client; DatagramSocket udp = new DatagramSocket(new InetSocketAddress(target.getAddress(), 0))) {
            // One byte more than the largest datagram taken: a read that fills it was too large, and is dropped.
            ByteBuffer datagram = ByteBuffer.allocate(MAX_DATAGRAM + 1);
            if (client.read(datagram) <= 0 || datagram.position() > MAX_DATAGRAM) {
                return;
            }
            udp.connect(target);
            udp.send(new DatagramPacket(datagram.array(), datagram.position()));
            udp.setSoTimeout((int) DATAGRAM_EXCHANGE.toMillis());
            byte[] buffer = new byte[64 * 1024];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            udp.receive(reply);
            ByteBuffer out = ByteBuffer.wrap(Arrays.copyOf(reply.getData(), reply.getLength()));
            while (out.hasRemaining()) {
                client.write(out);
            }
        } catch (SocketTimeoutException e) {
            // The service dropped the datagram (as the DNS stub drops what is not a query): no reply, as over UDP.
        } catch (IOException e) {
            // The relay went away, the deadline closed the connection, or the service is gone.
        } finally {
            deadline.cancel(false);
        }
    }

    @Override
    public void close() {
        loop.close();
        if (deadlines != null) {
            deadlines.shutdownNow();
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new CageException("cannot remove the bridge's socket " + socket + ": " + e.getMessage());
        }
    }
}
