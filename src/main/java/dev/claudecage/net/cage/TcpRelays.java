package dev.claudecage.net.cage;

import dev.claudecage.CageException;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.proxy.RelayRoute;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Which allowed_hosts entries a cage reaches through a TCP relay on the gateway, and at which of the
 * gateway's ports: pure, so that {@code config} shows the same ports the cage gets.
 * <p>
 * Every exact entry on a port other than 80 and 443 gets a relay (a wildcard cannot: a raw stream names no
 * host, so the relay would not know which name under it was meant; such entries are reached through the
 * explicit proxy's CONNECT only). The first entry on a port, in the order of allowed_hosts, gets that port
 * itself, so that {@code psql -h db.example.com} works as it is. An entry whose port another entry took
 * first, one of the gateway's own services has (53, 3128, 8080, 8081), or a program on the host holds at
 * every address (sshd on 0.0.0.0:22 holds GW:22 too), gets a port of its own from {@link #OWN_PORTS_FROM}
 * up, which the cage must name ({@code -p}); the cage finds the list in {@code CLAUDE_CAGE_TCP_RELAYS}.
 */
public final class TcpRelays {

    /** Where the ports of entries that cannot have their own begin. */
    public static final int OWN_PORTS_FROM = 40000;
    /** Each relay is a listener and a thread per gateway address: a bound on what one config can ask for. */
    public static final int MAX_RELAYS = 64;
    /** The cage's variable that lists every relay, NAME:PORT=GATEWAY_PORT, separated by spaces. */
    public static final String ENVIRONMENT_VARIABLE = "CLAUDE_CAGE_TCP_RELAYS";

    private TcpRelays() {
    }

    /**
     * The relays of this policy on a gateway with these ports, in the order of allowed_hosts.
     *
     * @param heldOnGateway ports something else already holds on the gateway's address ({@link HostListeners}):
     *                      no relay listens there
     */
    public static List<RelayRoute> plan(EgressPolicy policy, GatewayPorts ports, Set<Integer> heldOnGateway) {
        return plan(policy, ports, () -> heldOnGateway);
    }

    /**
     * As above, asking {@code heldOnGateway} only when some entry needs a relay: the host's TCP tables list
     * every socket of the host (hundreds of lines on a busy one), and most cages have no relay at all.
     */
    public static List<RelayRoute> plan(EgressPolicy policy, GatewayPorts ports, Supplier<Set<Integer>> heldOnGateway) {
        List<HostRule> relayed = policy.rules().stream()
                .filter(rule -> !rule.isWildcard() && rule.port() != ports.http() && rule.port() != ports.https())
                .filter(rule -> policy.apiHostReason(rule.pattern()).isEmpty())
                .distinct().toList();
        if (relayed.size() > MAX_RELAYS) {
            throw new CageException("allowed_hosts has " + relayed.size() + " exact entries on ports other than 80 and 443, "
                    + "each a TCP relay on the gateway; at most " + MAX_RELAYS + " are supported",
                    "reach the rest through the proxy (HTTPS_PROXY's CONNECT), or list fewer");
        }
        if (relayed.isEmpty()) {
            return List.of();
        }
        Set<Integer> services = new HashSet<>(ports.tcpPorts(GatewayPorts.Services.ALL));
        services.addAll(heldOnGateway.get());
        Set<Integer> taken = new HashSet<>(services);
        relayed.forEach(rule -> taken.add(rule.port()));
        Set<Integer> given = new HashSet<>();
        Map<HostRule, Integer> gatewayPorts = new LinkedHashMap<>();
        relayed.forEach(rule -> gatewayPorts.put(rule, null));
        for (HostRule rule : relayed) {
            if (!services.contains(rule.port()) && given.add(rule.port())) {
                gatewayPorts.put(rule, rule.port());
            }
        }
        int next = OWN_PORTS_FROM;
        for (HostRule rule : relayed) {
            if (gatewayPorts.get(rule) == null) {
                while (taken.contains(next)) {
                    next++;
                }
                taken.add(next);
                gatewayPorts.put(rule, next);
            }
        }
        List<RelayRoute> routes = new ArrayList<>();
        gatewayPorts.forEach((rule, port) -> routes.add(new RelayRoute(rule.pattern(), rule.port(), port)));
        return List.copyOf(routes);
    }

    /** The cage's variable naming the relays, or none when there are none. */
    public static List<String> environment(List<RelayRoute> routes) {
        if (routes.isEmpty()) {
            return List.of();
        }
        return List.of(ENVIRONMENT_VARIABLE + "=" + String.join(" ", routes.stream().map(RelayRoute::toString).toList()));
    }

    /** The gateway ports the firewalls open for these relays. */
    public static List<Integer> gatewayPorts(List<RelayRoute> routes) {
        return routes.stream().map(RelayRoute::listenPort).toList();
    }
}
