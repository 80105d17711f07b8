package dev.claudecage.net.proxy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where a cage's egress proxy listens and how long it waits. Each listener binds on every
 * address (the cage's IPv4 and IPv6 gateway addresses) with the same port; a port of 0 picks a
 * free one, the same for all addresses, for tests.
 *
 * @param httpProxyPort       the explicit proxy (HTTP_PROXY, HTTPS_PROXY): CONNECT and absolute-URI requests
 * @param transparentTlsPort  TLS from clients that ignore proxy variables, decided by SNI
 * @param transparentHttpPort plain HTTP from the same clients, decided by the Host header
 * @param handshakeTimeout    how long a client may take to send its request or ClientHello
 * @param idleTimeout         a connection with no byte in either direction for this long is closed
 * @param connectTimeout      how long to wait for an upstream server to accept, all its addresses together
 * @param relays              the TCP relays, each on its own port: entries with a port other than 80 and 443
 */
public record ProxySettings(List<InetAddress> bindAddresses, int httpProxyPort, int transparentTlsPort,
                            int transparentHttpPort, Duration handshakeTimeout, Duration idleTimeout,
                            Duration connectTimeout, List<RelayRoute> relays) {

    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    public ProxySettings {
        bindAddresses = List.copyOf(bindAddresses);
        relays = List.copyOf(relays);
        if (bindAddresses.isEmpty()) {
            throw new IllegalArgumentException("the proxy needs at least one address to listen on");
        }
        checkPort(httpProxyPort, "httpProxyPort");
        checkPort(transparentTlsPort, "transparentTlsPort");
        checkPort(transparentHttpPort, "transparentHttpPort");
        checkPositive(handshakeTimeout, "handshakeTimeout");
        checkPositive(idleTimeout, "idleTimeout");
        checkPositive(connectTimeout, "connectTimeout");
        relays.forEach(relay -> checkPort(relay.listenPort(), "the relay's port for " + relay.host()));
    }

    /** Without TCP relays. */
    public ProxySettings(List<InetAddress> bindAddresses, int httpProxyPort, int transparentTlsPort,
                         int transparentHttpPort, Duration handshakeTimeout, Duration idleTimeout,
                         Duration connectTimeout) {
        this(bindAddresses, httpProxyPort, transparentTlsPort, transparentHttpPort, handshakeTimeout, idleTimeout,
                connectTimeout, List.of());
    }

    /** The given ports with the default timeouts. */
    public static ProxySettings withDefaultTimeouts(List<InetAddress> bindAddresses, int httpProxyPort,
                                                    int transparentTlsPort, int transparentHttpPort) {
        return new ProxySettings(bindAddresses, httpProxyPort, transparentTlsPort, transparentHttpPort,
                DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_CONNECT_TIMEOUT);
    }

    public ProxySettings withIdleTimeout(Duration timeout) {
        return new ProxySettings(bindAddresses, httpProxyPort, transparentTlsPort, transparentHttpPort,
                handshakeTimeout, timeout, connectTimeout, relays);
    }

    public ProxySettings withHandshakeTimeout(Duration timeout) {
        return new ProxySettings(bindAddresses, httpProxyPort, transparentTlsPort, transparentHttpPort,
                timeout, idleTimeout, connectTimeout, relays);
    }

    public ProxySettings withRelays(List<RelayRoute> routes) {
        return new ProxySettings(bindAddresses, httpProxyPort, transparentTlsPort, transparentHttpPort,
                handshakeTimeout, idleTimeout, connectTimeout, routes);
    }

    private static void checkPort(int port, String name) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " must be 0 to 65535, not " + port);
        }
    }

    private static void checkPositive(Duration duration, String name) {
        Objects.requireNonNull(duration, name);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, not " + duration);
        }
    }
}
