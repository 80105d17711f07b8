package dev.claudecage.desktop;

import dev.claudecage.CageException;
import dev.claudecage.host.Netns;
import dev.claudecage.net.ChannelCopy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Publishes one port of a cage's loopback on the host: listens on the host address, and for each
 * connection enters the cage's network namespace (setns, on the accepting thread only) to open a
 * socket to the port on the cage's own loopback, then copies bytes both ways. (A rootless
 * supervisor cannot enter a namespace its user namespace owns; it goes through a relay's Unix
 * socket instead, {@link #throughRelay}.) Sockets keep the
 * namespace they were made in, so this works for every network policy, {@code none} included, and
 * reaches that one port and nothing else of the cage: no route, veth or firewall rule is added.
 */
public final class PortForwarder implements AutoCloseable {

    /** More connections at once than a browser tab or two would open are refused. */
    static final int MAX_CONNECTIONS = 32;

    private final ServerSocketChannel server;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private Thread acceptor;

    private PortForwarder(ServerSocketChannel server) {
        this.server = server;
    }

    /** Binds the host side now, so that a port in use fails the start before the cage is made. */
    public static PortForwarder bind(InetSocketAddress listen) {
        try {
            // An IPv4 address gets an IPv4 socket, so the host sees exactly that address bound (not ::ffff:...).
            ServerSocketChannel server = ServerSocketChannel.open(listen.getAddress() instanceof Inet4Address
                    ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
            try {
                server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                server.bind(listen, 16);
                return new PortForwarder(server);
            } catch (IOException e) {
                server.close();
                throw e;
            }
        } catch (IOException e) {
            throw new CageException("cannot listen on " + listen.getAddress().getHostAddress() + ":" + listen.getPort()
                    + " for the desktop: " + e.getMessage(), "choose another port with --port ADDRESS:PORT:6080");
        }
    }

    /** The address actually bound (the port chosen, when 0 was asked for). */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new CageException("the desktop's listening socket is gone: " + e.getMessage());
        }
    }

    /** Opens one connection to the published port inside the cage. */
    @FunctionalInterface
    public interface Inside {
        SocketChannel connect() throws Exception;
    }

    /**
     * {@code cagePort} on the loopback of {@code cage}, reached by entering its network namespace
     * (root); {@code cage} must stay open until {@link #close}.
     */
    public static Inside throughNamespace(Netns cage, int cagePort) {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), cagePort);
        return () -> cage.call(() -> {
            SocketChannel channel = SocketChannel.open();
            try {
                channel.connect(target);
                return channel;
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        });
    }

    /** The Unix socket of a relay inside the cage's network namespace (rootless, see {@link DesktopRelay}). */
    public static Inside throughRelay(java.nio.file.Path socket) {
        return () -> SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket));
    }

    /**
     * Starts forwarding each connection to the cage through {@code inside}; connections that
     * arrived since {@link #bind} waited in the backlog.
     */
    public synchronized void start(Inside inside, Consumer<String> log) {
        if (acceptor != null) {
            throw new IllegalStateException("the forwarder runs already");
        }
        acceptor = new Thread(() -> acceptLoop(inside, log), "desktop-forward-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop(Inside inside, Consumer<String> log) {
        while (!closed) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    log.accept("desktop forwarding: accept failed: " + e.getMessage());
                }
                return;
            }
            if (open.size() >= 2 * MAX_CONNECTIONS) { // two sockets per connection
                log.accept("desktop forwarding: refused a connection from " + remote(client) + ": "
                        + MAX_CONNECTIONS + " connections are open");
                ChannelCopy.closeQuietly(client);
                continue;
            }
            SocketChannel cageSide;
            try {
                cageSide = inside.connect();
            } catch (Exception e) {
                log.accept("desktop forwarding: cannot reach the desktop in the cage for " + remote(client) + ": "
                        + e.getMessage());
                ChannelCopy.closeQuietly(client);
                continue;
            }
            open.add(client);
            open.add(cageSide);
            Runnable done = new Pair(client, cageSide);
            copy(client, cageSide, done, "desktop-forward-out");
            copy(cageSide, client, done, "desktop-forward-in");
        }
    }

    /** Copies {@code from} to {@code to} on a thread of its own; {@code done} runs when it ends. */
    private void copy(SocketChannel from, SocketChannel to, Runnable done, String name) {
        Thread thread = new Thread(() -> {
            try {
                ChannelCopy.untilEnd(from, to);
            } finally {
                done.run();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Closes both sockets when the second of the two copies ends. */
    private final class Pair implements Runnable {
        private final SocketChannel a;
        private final SocketChannel b;
        private int ended;

        Pair(SocketChannel a, SocketChannel b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void run() {
            synchronized (this) {
                if (++ended < 2) {
                    return;
                }
            }
            ChannelCopy.closeQuietly(a);
            ChannelCopy.closeQuietly(b);
            open.remove(a);
            open.remove(b);
        }
    }

    /** Stops listening and cuts every forwarded connection. */
    @Override
    public void close() {
        closed = true;
        ChannelCopy.closeQuietly(server);
        for (SocketChannel channel : open) {
            ChannelCopy.closeQuietly(channel);
        }
        Thread thread;
        synchronized (this) {
            thread = acceptor;
        }
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String remote(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }
}
