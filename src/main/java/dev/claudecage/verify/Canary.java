package dev.claudecage.verify;

import dev.claudecage.DaemonThreads;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A listener that records every TCP connection and UDP datagram it receives. Probes of a
 * network wall assert on its record, not only on the error the cage saw: "blocked" means the
 * canary heard nothing, and each positive control must make it hear something.
 * Created on a thread inside a test host's network namespace, it listens there.
 */
public final class Canary implements AutoCloseable {

    private record Listener(String address, String protocol, int port, AutoCloseable socket) {
    }

    /** How long {@link #close} waits for each listener's thread to leave it. */
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(5);

    private final List<Listener> listeners = new ArrayList<>();
    private final List<Thread> loops = new ArrayList<>();
    private final List<String> hits = new ArrayList<>();

    /** Listens on every address, on each TCP and UDP port (0 = any free port). */
    public static Canary open(List<String> addresses, List<Integer> tcpPorts, List<Integer> udpPorts) {
        Canary canary = new Canary();
        try {
            for (String address : addresses) {
                InetAddress bind = InetAddress.getByName(address);
                for (int port : tcpPorts) {
                    ServerSocket server = new ServerSocket();
                    server.setReuseAddress(true);
                    server.bind(new InetSocketAddress(bind, port));
                    canary.add(new Listener(address, "tcp", server.getLocalPort(), server),
                            () -> canary.acceptLoop(server, address));
                }
                for (int port : udpPorts) {
                    DatagramSocket socket = new DatagramSocket(new InetSocketAddress(bind, port));
                    canary.add(new Listener(address, "udp", socket.getLocalPort(), socket),
                            () -> canary.receiveLoop(socket, address));
                }
            }
            return canary;
        } catch (IOException e) {
            canary.close();
            throw new UncheckedIOException("cannot start the canary on " + addresses, e);
        }
    }

    /** The port the first listener of this address and protocol is bound to. */
    public int port(String address, String protocol) {
        return listeners.stream().filter(l -> l.address().equals(address) && l.protocol().equals(protocol))
                .findFirst().orElseThrow(() -> new IllegalArgumentException("no " + protocol + " listener on " + address))
                .port();
    }

    /** Every hit so far, as "tcp ADDRESS:PORT from PEER". */
    public synchronized List<String> hits() {
        return List.copyOf(hits);
    }

    /** The hits since the last call, then forgets them. */
    public synchronized List<String> takeHits() {
        List<String> taken = List.copyOf(hits);
        hits.clear();
        return taken;
    }

    private synchronized void record(String hit) {
        hits.add(hit);
    }

    private void add(Listener listener, Runnable loop) {
        listeners.add(listener);
        loops.add(DaemonThreads.start("canary-" + listener.protocol() + "-" + listener.port(), loop));
    }

    private void acceptLoop(ServerSocket server, String address) {
        while (!server.isClosed()) {
            try (Socket connection = server.accept()) {
                record("tcp " + address + ":" + server.getLocalPort() + " from " + connection.getInetAddress().getHostAddress());
                connection.getOutputStream().write("canary\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void receiveLoop(DatagramSocket socket, String address) {
        byte[] buffer = new byte[2048];
        while (!socket.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                record("udp " + address + ":" + socket.getLocalPort() + " from " + packet.getAddress().getHostAddress());
            } catch (IOException closed) {
                return;
            }
        }
    }

    /**
     * Closes every listener and returns once their ports are free: the JDK releases a socket that a thread
     * is blocked on (accept, receive) only when that thread has left it, so a canary opened on the same
     * port right after a close that did not wait would fail to bind (a third of the time in a tight loop).
     */
    @Override
    public void close() {
        for (Listener listener : listeners) {
            try {
                listener.socket().close();
            } catch (Exception alreadyClosed) {
                // Closing a listener fails only when it is already closed.
            }
        }
        try {
            for (Thread loop : loops) {
                loop.join(RELEASE_WAIT.toMillis());
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
