package dev.claudecage.net.proxy;

import dev.claudecage.Teardown;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client connection through the proxy and, once allowed, its upstream connection: the
 * sockets, the bytes counted each way, when it was last active, and why it ended. Any thread may
 * end it (the watchdog, a cut-off, the proxy stopping); the first reason given is the one kept.
 */
final class Connection {

    /**
     * Which timer applies: the handshake timeout while the client has not finished asking, none
     * while the proxy resolves and connects (both have timeouts of their own), then the idle timeout.
     */
    private enum Phase {
        READING_REQUEST, CONNECTING, RELAYING
    }

    /** Why a connection ended; the audit line for an allowed connection says it. */
    enum Ending {
        COMPLETED, IDLE, HANDSHAKE_TIMEOUT, CUT_OFF, STOPPED, BROKEN
    }

    private final SocketChannel client;
    private final long openedNanos = System.nanoTime();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private volatile long lastActivityNanos = openedNanos;
    private volatile Phase phase = Phase.READING_REQUEST;
    private SocketChannel upstream;
    private Ending ending;
    private String endingDetail;

    Connection(SocketChannel client) {
        this.client = client;
    }

    SocketChannel client() {
        return client;
    }

    long bytesSent() {
        return bytesSent.get();
    }

    long bytesReceived() {
        return bytesReceived.get();
    }

    /**
     * Takes ownership of the upstream socket. False, with the socket closed, when the connection
     * ended while the proxy was connecting (a cut-off, the proxy stopping).
     */
    synchronized boolean attachUpstream(SocketChannel channel) throws IOException {
        if (ending != null) {
            channel.close();
            return false;
        }
        upstream = channel;
        return true;
    }

    void requestRead() {
        phase = Phase.CONNECTING;
    }

    void startRelaying() {
        touch();
        phase = Phase.RELAYING;
    }

    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    /** Bytes toward the upstream server, counted and charged to the cage's egress budget. */
    MeteredOutputStream towardUpstream(SocketChannel upstreamChannel, TrafficLimits limits) {
        return new MeteredOutputStream(upstreamChannel, limits, this, bytesSent);
    }

    /** Bytes from the upstream server toward the cage, counted and charged the same way. */
    MeteredOutputStream towardClient(TrafficLimits limits) {
        return new MeteredOutputStream(client, limits, this, bytesReceived);
    }

    /** Whether the watchdog should end it: too slow to ask, or silent for too long. */
    Ending overdue(long nowNanos, long handshakeNanos, long idleNanos) {
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
    void end(Ending why) {
        end(why, null);
    }

    /** The same, with what went wrong in words, for the audit line. */
    void end(Ending why, String detail) {
        SocketChannel upstreamChannel;
        synchronized (this) {
            if (ending == null) {
                ending = why;
                endingDetail = detail;
            }
            upstreamChannel = upstream;
        }
        Teardown.closeQuietly(client);
        if (upstreamChannel != null) {
            Teardown.closeQuietly(upstreamChannel);
        }
    }

    /** Why it ended: the first reason anyone gave, or COMPLETED when nobody had to end it. */
    synchronized Ending ending() {
        return ending == null ? Ending.COMPLETED : ending;
    }

    synchronized String endingDetail() {
        return endingDetail;
    }
}
