package dev.claudecage.net.proxy;

/**
 * An allowed_hosts entry with a port other than 80 and 443, reached through a TCP relay on the
 * gateway: what the cage sends to the gateway's {@code listenPort} goes to {@code host}:{@code port},
 * decided, resolved, metered and audited as a CONNECT to the same destination would be. A raw TCP
 * stream names no destination, so the port the cage connected to is the only thing that picks it.
 *
 * @param listenPort the gateway's port for this entry: its own port, or one of its own when another entry
 *                   or a gateway service has that port; 0 picks a free one (tests, the host's loopback)
 */
public record RelayRoute(String host, int port, int listenPort) {

    /** NAME:PORT=GATEWAY_PORT, as CLAUDE_CAGE_TCP_RELAYS and {@code config} list it. */
    @Override
    public String toString() {
        return host + ":" + port + "=" + listenPort;
    }

    /** Whether the cage reaches the entry at a port of the gateway other than the entry's own. */
    public boolean movedToOwnPort() {
        return listenPort != port;
    }
}
