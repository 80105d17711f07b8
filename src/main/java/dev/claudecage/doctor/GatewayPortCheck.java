package dev.claudecage.doctor;

import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.net.proxy.RelayRoute;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Doctor's look at the ports of a root-mode cage's gateway address: a program on this host that listens on
 * every address holds the same port on each gateway address. On a port of the proxy, the DNS stub or the
 * gateways, filtered cages cannot start; on an allowed_hosts entry's port, its TCP relay moves to a port of
 * its own. Pure: the held ports and the relays are read by the caller.
 */
public final class GatewayPortCheck {

    static final String CHECK = "gateway ports";

    private GatewayPortCheck() {
    }

    /**
     * @param heldOnEveryAddress the TCP ports programs here listen on at 0.0.0.0 or ::
     * @param relays             the TCP relays of the effective configuration, planned with those ports
     * @param configProblem      why the configuration could not be read, or null
     */
    public static Diagnosis.Finding of(boolean rootless, Set<Integer> heldOnEveryAddress, List<RelayRoute> relays,
                                       String configProblem) {
        String relayText = configProblem != null ? "TCP relays unknown: " + configProblem
                : relays.isEmpty() ? "no allowed_hosts entry needs a TCP relay"
                : "TCP relays: " + relays.stream().map(GatewayPortCheck::describe).collect(Collectors.joining(", "));
        if (rootless) {
            return new Diagnosis.Finding(CHECK, Diagnosis.Status.NOT_NEEDED,
                    relayText + " (a rootless cage's services listen on its own loopback)", "");
        }
        List<Integer> services = GatewayPorts.STANDARD.tcpPorts(GatewayPorts.Services.ALL).stream()
                .filter(heldOnEveryAddress::contains).toList();
        if (!services.isEmpty()) {
            return new Diagnosis.Finding(CHECK, Diagnosis.Status.MISSING, "a program here listens on every address on "
                    + services.stream().map(String::valueOf).collect(Collectors.joining(", ")) + "; " + relayText,
                    "--network filtered cannot start (8080 and 8081 only when the API or git gateway runs): the proxy, "
                            + "the DNS stub and the gateways listen on these ports of each cage's gateway address; "
                            + "bind that program to the addresses it serves");
        }
        return new Diagnosis.Finding(CHECK, Diagnosis.Status.OK, relayText, "");
    }

    private static String describe(RelayRoute route) {
        return route.host() + ":" + route.port() + (route.movedToOwnPort() ? " at gateway port " + route.listenPort() : "");
    }
}
