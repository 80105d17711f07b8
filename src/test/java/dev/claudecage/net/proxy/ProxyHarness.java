package dev.claudecage.net.proxy;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.NameResolver;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * An egress proxy on 127.0.0.1 with a policy the test writes, a fake DNS (a map, no network), and
 * a dialer that reaches loopback only, so that no test can send a byte anywhere else. The
 * transparent listeners connect upstream to ports 443 and 80; {@link #route} sends those to the
 * test's own servers instead.
 */
final class ProxyHarness implements AutoCloseable {

    static final Duration AUDIT_WAIT = Duration.ofSeconds(5);

    private final Path dir;
    private final List<String> allowed = new ArrayList<>();
    private final Map<String, List<InetAddress>> pinned = new LinkedHashMap<>();
    private final Map<String, List<InetAddress>> dns = new HashMap<>();
    private final Map<Integer, Integer> routes = new HashMap<>();
    private final Set<String> apiHosts = new LinkedHashSet<>();
    private final List<String> dialed = new CopyOnWriteArrayList<>();
    private final List<RelayRoute> relays = new ArrayList<>();
    private List<InetAddress> bindAddresses = List.of(InetAddress.getLoopbackAddress());
    private long egressLimit = 1L << 40;
    private int maxConnections = 64;
    private UnaryOperator<ProxySettings> tuning = UnaryOperator.identity();
    private EgressProxy proxy;
    private AuditLog audit;

    ProxyHarness(Path dir) {
        this.dir = dir;
    }

    ProxyHarness allow(String entry) {
        allowed.add(entry);
        return this;
    }

    /** Pins the name to 127.0.0.1, as the resolve setting would. */
    ProxyHarness pinToLoopback(String name) {
        pinned.put(name, List.of(InetAddress.getLoopbackAddress()));
        return this;
    }

    /** A name the API gateway holds the user's key for: reached only through it. */
    ProxyHarness apiHost(String name) {
        apiHosts.add(name);
        return this;
    }

    /** What the fake DNS answers for a name that is not pinned. */
    ProxyHarness dnsAnswer(String name, InetAddress address) {
        dns.put(name, List.of(address));
        return this;
    }

    /** Upstream connections to this port go to the test's server on another port of 127.0.0.1. */
    ProxyHarness route(int port, int testServerPort) {
        routes.put(port, testServerPort);
        return this;
    }

    /** A TCP relay to host:port, allowed as an entry of its own, on a free port of the proxy's. */
    ProxyHarness relay(String host, int port) {
        relays.add(new RelayRoute(host, port, 0));
        return allow(host + ":" + port);
    }

    ProxyHarness limits(long egressLimitBytes, int connections) {
        this.egressLimit = egressLimitBytes;
        this.maxConnections = connections;
        return this;
    }

    ProxyHarness bindTo(List<InetAddress> addresses) {
        this.bindAddresses = addresses;
        return this;
    }

    ProxyHarness tune(UnaryOperator<ProxySettings> change) {
        this.tuning = change;
        return this;
    }

    ProxyHarness start() {
        EgressPolicy policy = new EgressPolicy(allowed.stream().map(HostRule::parse).toList(), pinned, egressLimit,
                maxConnections, apiHosts);
        NameResolver resolver = new NameResolver(policy, name -> {
            List<InetAddress> answer = dns.get(name);
            if (answer == null) {
                throw new UnknownHostException("the fake DNS has no " + name);
            }
            return answer;
        });
        audit = AuditLog.open(dir.resolve("audit.jsonl"), List.of());
        ProxySettings settings = tuning.apply(ProxySettings.withDefaultTimeouts(bindAddresses, 0, 0, 0).withRelays(relays));
        proxy = EgressProxy.start(settings, policy, TrafficLimits.of(policy), resolver, this::dialLoopbackOnly, audit);
        return this;
    }

    private SocketChannel dialLoopbackOnly(List<InetAddress> addresses, int port) throws IOException {
        InetAddress address = addresses.get(0);
        if (!address.isLoopbackAddress()) {
            throw new IOException("the test dialer reaches loopback only, not " + address);
        }
        dialed.add(address.getHostAddress() + ":" + port);
        return SocketChannel.open(new InetSocketAddress(address, routes.getOrDefault(port, port)));
    }

    EgressProxy proxy() {
        return proxy;
    }

    /** Every upstream connection the proxy opened, as address:port before routing. */
    List<String> dialed() {
        return dialed;
    }

    Socket openExplicit() throws IOException {
        return Wire.open(proxy.httpProxyPort());
    }

    Socket openTransparentTls() throws IOException {
        return Wire.open(proxy.transparentTlsPort());
    }

    /** A connection to the relay for host:port, as the cage makes it: nothing sent yet. */
    Socket openRelay(String host, int port) throws IOException {
        return Wire.open(proxy.relayPort(new RelayRoute(host, port, 0)));
    }

    Socket openTransparentHttp() throws IOException {
        return Wire.open(proxy.transparentHttpPort());
    }

    List<AuditEvent> auditEvents() {
        return AuditLog.read(audit.file());
    }

    /** The first audit event that matches, waiting for it: allowed lines are written when a connection ends. */
    AuditEvent awaitAudit(Predicate<AuditEvent> match) throws InterruptedException {
        long deadline = System.nanoTime() + AUDIT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (AuditEvent event : auditEvents()) {
                if (match.test(event)) {
                    return event;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no matching audit event within " + AUDIT_WAIT + "; the log has " + auditEvents());
    }

    /** Waits until the proxy holds this many connections open. */
    void awaitOpenConnections(int count) throws InterruptedException {
        long deadline = System.nanoTime() + AUDIT_WAIT.toNanos();
        while (proxy.openConnections() != count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the proxy holds " + proxy.openConnections() + " connections, not " + count);
            }
            Thread.sleep(10);
        }
    }

    @Override
    public void close() {
        if (proxy != null) {
            proxy.close();
        }
        if (audit != null) {
            audit.close();
        }
    }
}
