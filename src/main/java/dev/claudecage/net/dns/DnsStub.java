package dev.claudecage.net.dns;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.net.AcceptLoop;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The filtered cage's only DNS server, on the gateway address, UDP and TCP on the same port. Names the
 * policy allows resolve to the gateway itself (where the proxy's transparent listeners take the
 * connection and decide by SNI or Host); every other name is NXDOMAIN. It has no upstream and no
 * recursion, and serves no record type that carries data, so a query name never leaves the host and
 * DNS cannot carry anything out of the cage. Each query is audited (name, type, decision); the audit
 * log's rate limit summarizes floods. See {@link DnsResponder} for the answers.
 */
public final class DnsStub implements AutoCloseable {

    /** The {@code source} of the stub's audit events. */
    public static final String AUDIT_SOURCE = "dns";
    /** The largest query taken over UDP or TCP; anything larger is dropped (a real query is a few hundred bytes). */
    public static final int MAX_MESSAGE_BYTES = 1232;
    /** TCP connections served at once; more are closed at once. */
    public static final int MAX_TCP_CONNECTIONS = 16;
    /** A TCP connection idle this long, or this slow to send a query, is closed. */
    public static final Duration TCP_IDLE = Duration.ofSeconds(5);
    /** Queries taken on one TCP connection before it is closed. */
    public static final int MAX_QUERIES_PER_CONNECTION = 100;
    private static final int BIND_ATTEMPTS = 10;
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);

    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final DnsResponder responder;
    private final Consumer<AuditEvent> audit;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread udpLoop;
    private AcceptLoop<Socket> tcpLoop;

    private DnsStub(DatagramSocket udp, ServerSocket tcp, DnsResponder responder, Consumer<AuditEvent> audit) {
        this.udp = udp;
        this.tcp = tcp;
        this.responder = responder;
        this.audit = audit;
        this.udpLoop = DaemonThreads.unstarted("cage-dns-udp", this::serveUdp);
    }

    /**
     * Starts answering on UDP and TCP at {@code bind} (port 53 in production; port 0 picks one free
     * for both protocols).
     *
     * @param answer4 the address every allowed name has for A: the gateway's IPv4 address
     * @param answer6 the address every allowed name has for AAAA: the gateway's IPv6 address, or null
     *                where the cage has no IPv6 way out (AAAA is then answered with no record)
     * @param audit   takes one event per query, e.g. {@code auditLog::record}, which throttles a flood
     * @throws CageException when the port cannot be bound
     */
    public static DnsStub start(InetSocketAddress bind, EgressPolicy policy, Inet4Address answer4, Inet6Address answer6,
                                Consumer<AuditEvent> audit) {
        DnsResponder responder = new DnsResponder(policy, answer4, answer6);
        IOException last = null;
        for (int attempt = 0; attempt < (bind.getPort() == 0 ? BIND_ATTEMPTS : 1); attempt++) {
            DatagramSocket udp = null;
            try {
                udp = new DatagramSocket(bind);
                ServerSocket tcp = new ServerSocket();
                try {
                    tcp.setReuseAddress(true);
                    tcp.bind(new InetSocketAddress(bind.getAddress(), udp.getLocalPort()), 64);
                } catch (IOException e) {
                    tcp.close();
                    throw e;
                }
                DnsStub stub = new DnsStub(udp, tcp, responder, audit);
                stub.udpLoop.start();
                // A connection beyond the limit is closed at once.
                stub.tcpLoop = AcceptLoop.start("cage-dns-tcp", tcp, tcp::accept, MAX_TCP_CONNECTIONS, stub::serveTcp,
                        refused -> { });
                return stub;
            } catch (IOException e) {
                last = e;
                if (udp != null) {
                    udp.close();
                }
                if (!(e instanceof BindException)) {
                    break;
                }
            }
        }
        throw new CageException("cannot listen on " + bind + " (UDP and TCP) for the cage's DNS stub: "
                + (last == null ? "unknown error" : last.getMessage()),
                "another DNS server may hold the port on that address; stop it or use another address");
    }

    /** The address and port (the same for UDP and TCP). */
    public InetSocketAddress address() {
        return (InetSocketAddress) udp.getLocalSocketAddress();
    }

    @Override
    public void close() {
        udp.close();
        Teardown.closeQuietly(tcp);
        open.forEach(Teardown::closeQuietly);
        // Waits for the connections' threads.
        tcpLoop.close();
        try {
            udpLoop.join(STOP_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void serveUdp() {
        // One byte more than the largest query taken: a datagram that fills it was too large.
        byte[] buffer = new byte[MAX_MESSAGE_BYTES + 1];
        while (!udp.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                udp.receive(packet);
            } catch (IOException closed) {
                return;
            }
            try {
                if (packet.getLength() > MAX_MESSAGE_BYTES) {
                    audit.accept(AuditEvent.denied(AUDIT_SOURCE, null, null, "a UDP query over "
                            + MAX_MESSAGE_BYTES + " bytes: dropped"));
                    continue;
                }
                DnsResponder.Outcome outcome = responder.respond(Arrays.copyOf(packet.getData(), packet.getLength()));
                audit.accept(outcome.event());
                if (outcome.response().isPresent()) {
                    byte[] response = outcome.response().get();
                    udp.send(new DatagramPacket(response, response.length, packet.getSocketAddress()));
                }
            } catch (IOException e) {
                if (udp.isClosed()) {
                    return;
                }
                // A send to one client failed (its socket is gone): keep serving the others.
            } catch (RuntimeException e) {
                // An audit failure or a bug for one query must not end the stub; the query is not answered.
                if (udp.isClosed()) {
                    return;
                }
            }
        }
    }

    private void serveTcp(Socket socket) {
        open.add(socket);
        try (socket) {
            socket.setSoTimeout((int) TCP_IDLE.toMillis());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            for (int served = 0; served < MAX_QUERIES_PER_CONNECTION; served++) {
                int length;
                try {
                    length = in.readUnsignedShort();
                } catch (EOFException | SocketTimeoutException done) {
                    return;
                }
                if (length > MAX_MESSAGE_BYTES) {
                    audit.accept(AuditEvent.denied(AUDIT_SOURCE, null, null, "a TCP query of " + length
                            + " bytes, over " + MAX_MESSAGE_BYTES + ": connection closed"));
                    return;
                }
                byte[] query = new byte[length];
                in.readFully(query);
                DnsResponder.Outcome outcome = responder.respond(query);
                audit.accept(outcome.event());
                if (outcome.response().isEmpty()) {
                    return;
                }
                byte[] response = outcome.response().get();
                out.writeShort(response.length);
                out.write(response);
                out.flush();
            }
        } catch (SocketException | SocketTimeoutException | EOFException gone) {
            // The client went away, stalled mid-query, or the stub is closing.
        } catch (IOException | RuntimeException e) {
            // One connection's failure ends that connection only.
        } finally {
            open.remove(socket);
        }
    }
}
