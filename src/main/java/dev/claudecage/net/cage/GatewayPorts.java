package dev.claudecage.net.cage;

import java.util.ArrayList;
import java.util.List;

/**
 * The ports on the gateway address where a filtered cage's services listen: the only
 * destinations the cage's firewall lets through, and only those of services that run.
 *
 * @param dns           the DNS stub (UDP and TCP)
 * @param http          the proxy's transparent listener for plain HTTP (decides by Host)
 * @param https         the proxy's transparent listener for TLS (decides by SNI)
 * @param proxy         the explicit HTTP proxy (HTTP_PROXY / HTTPS_PROXY)
 * @param apiGateway    the API gateway (ANTHROPIC_BASE_URL)
 * @param gitGateway    the git gateway (git's url.*.insteadOf for hosts with a token)
 */
public record GatewayPorts(int dns, int http, int https, int proxy, int apiGateway, int gitGateway) {

    public static final GatewayPorts STANDARD = new GatewayPorts(53, 80, 443, 3128, 8080, 8081);

    /**
     * Which of the gateway's optional services run for one cage. The DNS stub and the proxy always do;
     * the API gateway only with the user's key on the host, the git gateway only with git_credentials,
     * the TCP relays ({@link TcpRelays}) only for allowed_hosts entries on other ports, each on its port.
     * A port opened for a service that does not run would let the cage reach whatever else on the host
     * listens there (a program on 0.0.0.0:8081, say).
     */
    public record Services(boolean apiGateway, boolean gitGateway, List<Integer> relayPorts) {
        public static final Services ALL = new Services(true, true);

        public Services {
            relayPorts = List.copyOf(relayPorts);
        }

        /** Without TCP relays. */
        public Services(boolean apiGateway, boolean gitGateway) {
            this(apiGateway, gitGateway, List.of());
        }

        /** The same services with the relays on these ports. */
        public Services withRelayPorts(List<Integer> ports) {
            return new Services(apiGateway, gitGateway, ports);
        }
    }

    /** The TCP ports the firewalls open for these services. */
    public List<Integer> tcpPorts(Services services) {
        List<Integer> ports = new ArrayList<>(List.of(dns, http, https, proxy));
        if (services.apiGateway()) {
            ports.add(apiGateway);
        }
        if (services.gitGateway()) {
            ports.add(gitGateway);
        }
        ports.addAll(services.relayPorts());
        return List.copyOf(ports);
    }

    /** The TCP ports of services that do not run: closed, though a gateway would listen there. */
    public List<Integer> idleTcpPorts(Services services) {
        List<Integer> idle = new ArrayList<>(tcpPorts(Services.ALL));
        idle.removeAll(tcpPorts(services));
        return List.copyOf(idle);
    }
}
