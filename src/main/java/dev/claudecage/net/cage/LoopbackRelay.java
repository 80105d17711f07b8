package dev.claudecage.net.cage;

import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.net.AcceptLoop;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cage's end of a rootless cage's way out: one process in the cage's network namespace that
 * listens on the cage's loopback, on each route's port, and takes what comes in to the route's
 * Unix socket, where a {@link UnixBridge} takes it on to the service on the host.
 * <p>
 * One process, whatever the cage sends: a connection or a datagram gets a thread, not a process,
 * and each route has at most {@code maxConnections} of them. A datagram that finds them all busy is
 * dropped, as a busy UDP service drops it; a connection beyond them is closed. (socat, which this
 * replaces, forked a child per datagram, with no bound over UDP.)
 * <p>
 * Run as {@code java -cp ... dev.claudecage.net.cage.LoopbackRelay MAX_CONNECTIONS ROUTE...}, each route
 * {@code tcp:PORT:SOCKET} or {@code udp:PORT:SOCKET}; it ends when its standard input does, which is
 * when the JVM that started it closes the pipe or dies.
 */
public final class LoopbackRelay {

    private static final Pattern ROUTE = Pattern.compile("(tcp|udp):(\\d{1,5}):(/.+)");

    /** The cage's loopback {@code port}, over TCP or UDP, taken to the Unix socket {@code socket}. */
    public record Route(boolean udp, int port, Path socket) {

        public Route {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("a relay's port is from 1 to 65535, not " + port);
            }
            if (!socket.isAbsolute()) {
                throw new IllegalArgumentException("a relay's socket path must be absolute: " + socket);
            }
        }

        /** The route as the relay's command line takes it. */
        public String argument() {
            return (udp ? "udp" : "tcp") + ":" + port + ":" + socket;
        }

        static Route parse(String argument) {
            Matcher route = ROUTE.matcher(argument);
            if (!route.matches()) {
                throw new IllegalArgumentException("a route is tcp:PORT:SOCKET or udp:PORT:SOCKET, not " + argument);
            }
            return new Route(route.group(1).equals("udp"), Integer.parseInt(route.group(2)), Path.of(route.group(3)));
        }

        public String name() {
            return port + "/" + (udp ? "udp" : "tcp");
        }
    }

    private final List<AutoCloseable> listeners = new ArrayList<>();

    private LoopbackRelay() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: LoopbackRelay MAX_CONNECTIONS tcp:PORT:SOCKET|udp:PORT:SOCKET...");
            System.exit(2);
        }
        int maxConnections = Integer.parseInt(args[0]);
        List<Route> routes = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            routes.add(Route.parse(args[i]));
        }
        LoopbackRelay relay = start(InetAddress.getLoopbackAddress(), routes, maxConnections);
        // Its error output is read only if it ends at once; from here on, a pipe nobody empties must never stop a thread.
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        // Until the pipe from the JVM that started it ends: a plain read returns -1 then.
        while (System.in.read() >= 0) {
            continue;
        }
        relay.close();
        System.exit(0);
    }

    /** Listens on {@code address} for every route; each relays until {@link #close()}. */
    static LoopbackRelay start(InetAddress address, List<Route> routes, int maxConnections) throws IOException {
        LoopbackRelay relay = new LoopbackRelay();
        try {
            for (Route route : routes) {
                UnixDomainSocketAddress socket = UnixDomainSocketAddress.of(route.socket());
                InetSocketAddress listen = new InetSocketAddress(address, route.port());
                relay.listeners.add(route.udp() ? Datagrams.start(listen, socket, maxConnections)
                        : streams(listen, socket, maxConnections));
            }
            return relay;
        } catch (IOException | RuntimeException e) {
            relay.close();
            throw e;
        }
    }

    /** {@code channel} bound to {@code listen}; closed again when it cannot be, with an error that names {@code where}. */
    private static <C extends NetworkChannel> C bound(C channel, InetSocketAddress listen, String where) throws IOException {
        try {
            channel.bind(listen);
            return channel;
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen on " + where + ": " + e.getMessage(), e);
        }
    }

    private static AcceptLoop<SocketChannel> streams(InetSocketAddress listen, UnixDomainSocketAddress socket,
                                                     int maxConnections) throws IOException {
        // IPv4 as the route: the JDK would open a dual-stack IPv6 socket otherwise.
        ServerSocketChannel server = bound(ServerSocketChannel.open(StandardProtocolFamily.INET), listen,
                listen.toString());
        return AcceptLoop.start("relay-" + listen.getPort(), server, server::accept, maxConnections,
                client -> UnixBridge.relayStream(client, socket), refused -> { });
    }

    /**
     * One UDP socket: a thread receives, and each datagram is exchanged with the bridge on a thread
     * of a pool of at most {@code maxExchanges}: one connection per datagram, which the bridge
     * answers with the one reply (or none) and closes within its own deadline.
     */
    private static final class Datagrams implements AutoCloseable {

        private final DatagramChannel channel;
        private final ThreadPoolExecutor exchanges;

        private Datagrams(DatagramChannel channel, ThreadPoolExecutor exchanges) {
            this.channel = channel;
            this.exchanges = exchanges;
        }

        static Datagrams start(InetSocketAddress listen, UnixDomainSocketAddress socket, int maxExchanges)
                throws IOException {
            DatagramChannel channel = bound(DatagramChannel.open(StandardProtocolFamily.INET), listen, listen + "/udp");
            String name = "relay-" + listen.getPort() + "-udp";
            ThreadPoolExecutor exchanges = new ThreadPoolExecutor(0, maxExchanges, 30, TimeUnit.SECONDS,
                    new SynchronousQueue<>(), DaemonThreads.numbered(name));
            Datagrams datagrams = new Datagrams(channel, exchanges);
            DaemonThreads.start(name, () -> datagrams.receiveUntilClosed(socket));
            return datagrams;
        }

        private void receiveUntilClosed(UnixDomainSocketAddress socket) {
            while (true) {
                // One byte more than the bridge takes: a datagram that fills it is too large, and dropped here.
                ByteBuffer datagram = ByteBuffer.allocate(UnixBridge.MAX_DATAGRAM + 1);
                SocketAddress sender;
                try {
                    sender = channel.receive(datagram);
                } catch (IOException closed) {
                    return;
                }
                if (datagram.position() > UnixBridge.MAX_DATAGRAM) {
                    continue;
                }
                datagram.flip();
                try {
                    exchanges.execute(() -> exchange(datagram, sender, socket));
                } catch (RejectedExecutionException busy) {
                    // Every exchange is taken: dropped, as a busy UDP service drops; the resolver asks again.
                }
            }
        }

        private void exchange(ByteBuffer datagram, SocketAddress sender, UnixDomainSocketAddress socket) {
            try (SocketChannel bridge = SocketChannel.open(socket)) {
                // Written whole in one go: the bridge takes one read as the datagram.
                bridge.write(datagram);
                ByteBuffer reply = ByteBuffer.allocate(64 * 1024);
                while (reply.hasRemaining() && bridge.read(reply) >= 0) {
                    continue;
                }
                reply.flip();
                if (reply.hasRemaining()) {
                    channel.send(reply, sender);
                }
            } catch (IOException e) {
                // The bridge refused, timed out or is gone: no answer, as over UDP.
            }
        }

        @Override
        public void close() {
            Teardown.closeQuietly(channel);
            exchanges.shutdownNow();
        }
    }

    /** Stops every listener. */
    void close() {
        for (AutoCloseable listener : listeners) {
            try {
                listener.close();
            } catch (Exception e) {
                // Closing is all that is left to do with it.
            }
        }
    }
}
