package dev.claudecage.net;

import java.util.List;

/**
 * The ports on the gateway address where a filtered cage's services listen: the only
 * destinations the cage's firewall lets through.
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

    public List<Integer> tcpPorts() {
        return List.of(dns, http, https, proxy, apiGateway, gitGateway);
    }
}
