package dev.claudecage.net.proxy;

import dev.claudecage.Teardown;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client connection of the cage's, through the proxy or the API gateway, and, once allowed,
 * what it leads to upstream: the sockets, the bytes counted each way, when it was last active, its
 * timeouts, and why it ended. Any thread may end it (the watchdog, a cut-off, the server stopping);
 * the first reason given is the one kept.
 */
public final class Connection {

    /**
     * Which timer applies: the handshake timeout while the client has not finished asking, none
     * while the server resolves, connects or waits for an answer (each has a timeout of its own),
     * then the idle timeout.
     */
    private enum Phase {
        READING_REQUEST, CONNECTING, RELAYING
    }

    /** Why a connection ended; the audit line for an allowed connection says it. */
    public enum Ending {
        COMPLETED, IDLE, HANDSHAKE_TIMEOUT, CUT_OFF, STOPPED, BROKEN
    }

    private final SocketChannel client;
    private final long handshakeNanos;
    private final long idleNanos;
    private final long openedNanos = System.nanoTime();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private volatile long lastActivityNanos = openedNanos;
    private volatile Phase phase = Phase.READING_REQUEST;
    private Closeable upstream;
    private Ending ending;
    private String endingDetail;

    /**
     * @param handshakeTimeout how long the client may take to finish asking (its request head or ClientHello)
     * @param idleTimeout      how long bytes may stop in both directions while they are relayed
     */
    public Connection(SocketChannel client, Duration handshakeTimeout, Duration idleTimeout) {
        this.client = client;
        this.handshakeNanos = handshakeTimeout.toNanos();
        this.idleNanos = idleTimeout.toNanos();
    }

    public SocketChannel client() {
        return client;
    }

    public long bytesSent() {
        return bytesSent.get();
    }

    public long bytesReceived() {
        return bytesReceived.get();
    }

    /**
     * Takes ownership of what leads upstream (a socket, an exchange to cancel): ending the
     * connection closes it. False, with it closed, when the connection ended while the server was
     * connecting (a cut-off, the server stopping).
     */
    public synchronized boolean attachUpstream(Closeable upstreamSide) throws IOException {
        if (ending != null) {
            upstreamSide.close();
            return false;
        }
        upstream = upstreamSide;
        return true;
    }

    /** The client has asked: no timer until {@link #startRelaying}, as the server resolves, connects or waits. */
    public void awaitUpstream() {
        phase = Phase.CONNECTING;
    }

    /** Bytes flow: the idle timeout applies from now. */
    public void startRelaying() {
        touch();
        phase = Phase.RELAYING;
    }

    /** How long since the client connected. */
    public Duration age() {
        return Duration.ofNanos(System.nanoTime() - openedNanos);
    }

    public void touch() {
        lastActivityNanos = System.nanoTime();
    }

    /** Bytes toward the upstream server, counted and charged to the cage's egress budget. */
    MeteredOutputStream towardUpstream(SocketChannel upstreamChannel, TrafficLimits limits) {
        return new MeteredOutputStream(upstreamChannel, limits, this, bytesSent);
    }

    /** Bytes from the upstream server toward the cage, counted and charged the same way. */
    public MeteredOutputStream towardClient(TrafficLimits limits) {
        return new MeteredOutputStream(client, limits, this, bytesReceived);
    }

    /**
     * Bytes toward the cage that a server frames its own way on the way ({@code framing}, e.g. a
     * chunked response body), counted and charged before the framing.
     */
    public MeteredOutputStream towardClient(WritableByteChannel framing, TrafficLimits limits) {
        return new MeteredOutputStream(framing, limits, this, bytesReceived);
    }

    /**
     * The cage's bytes as a server reads them to pass them upstream (a request body), counted as
     * sent and charged to the egress budget as they are read.
     */
    public InputStream fromClient(InputStream in, TrafficLimits limits) {
        return new MeteredInputStream(in, limits, this, bytesSent);
    }

    /** Ends those of the connections that took too long to ask, or went silent: a server's watchdog. */
    public static void endOverdue(Collection<Connection> connections, long nowNanos) {
        for (Connection connection : connections) {
            Ending why = connection.overdue(nowNanos);
            if (why != null) {
                connection.end(why);
            }
        }
    }

    /** Whether the watchdog should end it: too slow to ask, or silent for too long. */
    Ending overdue(long nowNanos) {
        return switch (phase) {
            case READING_REQUEST -> nowNanos - openedNanos > handshakeNanos ? Ending.HANDSHAKE_TIMEOUT : null;
            case CONNECTING -> null;
            case RELAYING -> nowNanos - lastActivityNanos > idleNanos ? Ending.IDLE : null;
        };
    }

    /**
     * Ends the connection for this reason, unless it already has one, and closes both sockets,
     * which wakes every thread blocked on them.
     */
    public void end(Ending why) {
        end(why, null);
    }

    /** The same, with what went wrong in words, for the audit line. */
    public void end(Ending why, String detail) {
        Closeable upstreamSide;
        synchronized (this) {
            if (ending == null) {
                ending = why;
                endingDetail = detail;
            }
            upstreamSide = upstream;
        }
        Teardown.closeQuietly(client);
        Teardown.closeQuietly(upstreamSide);
    }

    /** Why it ended: the first reason anyone gave, or COMPLETED when nobody had to end it. */
    public synchronized Ending ending() {
        return ending == null ? Ending.COMPLETED : ending;
    }

    public synchronized String endingDetail() {
        return endingDetail;
    }
}
