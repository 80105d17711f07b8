package dev.claudecage.net.cage;

import java.util.stream.Collectors;

/**
 * The nftables rules of a filtered cage, as text for {@code nft -f}: pure functions of the link,
 * the ports and the services that run, so the rules are golden-tested and applied atomically in
 * one call each.
 * <p>
 * Two walls: inside the cage's namespace, output is dropped except to the ports of the gateway's
 * services that run (the cage holds no CAP_NET_ADMIN, so it cannot change them); on the host, the
 * cage's veth may reach only those ports and nothing is forwarded. Both cover IPv4 and IPv6 alike.
 */
public final class Firewall {

    /** The table inside the cage's namespace; one per namespace, so one name is enough. */
    public static final String CAGE_TABLE = "claude_cage";
    /** The table on the cage's end of the link, inside its namespace. */
    public static final String LINK_TABLE = "claude_cage_link";
    /** Dropped packets go to this netlink log group, read by {@link DropLogger}. */
    public static final int DROP_LOG_GROUP = 7;
    /** Enough to see what the agent tried, not enough to flood the audit log. Each packet is sent to the
     *  logger at once (queue-threshold 1): the kernel would otherwise hold up to a second of them. */
    static final String DROP_LOG_RATE = "limit rate 20/second burst 40 packets";

    private Firewall() {
    }

    /** The host's table for one cage. */
    public static String hostTable(CageLink link) {
        return "claude_cage_" + link.hostInterface();
    }

    public static String cageRuleset(CageLink link, GatewayPorts ports, GatewayPorts.Services services) {
        return cageRuleset(link.gateway4(), link.gateway6(), ports, services);
    }

    /**
     * The cage's table when its gateway is {@code gateway4} elsewhere (network: gateway:ADDRESS): the same
     * wall, with the external gateway's address as the only destination, over IPv4 only.
     */
    public static String cageRulesetToGateway(String gateway4, GatewayPorts ports, GatewayPorts.Services services) {
        return cageRuleset(gateway4, null, ports, services);
    }

    private static String cageRuleset(String gw4, String gw6, GatewayPorts ports, GatewayPorts.Services services) {
        String tcp = portSet(ports, services);
        return "table inet " + CAGE_TABLE + " {\n"
                + "\tchain output {\n"
                + "\t\ttype filter hook output priority filter; policy drop;\n"
                + "\t\toif \"lo\" accept\n"
                + "\t\tct state established,related accept\n"
                + "\t\tip daddr " + gw4 + " tcp dport " + tcp + " accept\n"
                + "\t\tip daddr " + gw4 + " udp dport " + ports.dns() + " accept\n"
                + (gw6 == null ? "" : "\t\tip6 daddr " + gw6 + " tcp dport " + tcp + " accept\n"
                + "\t\tip6 daddr " + gw6 + " udp dport " + ports.dns() + " accept\n")
                + neighbourDiscovery()
                + "\t\t" + DROP_LOG_RATE + " log group " + DROP_LOG_GROUP + " queue-threshold 1 prefix \"claude-cage drop\"\n"
                // Refuse at once rather than drop silently: tools fail fast instead of hanging.
                + "\t\tmeta l4proto tcp reject with tcp reset\n"
                + "\t\treject\n"
                + "\t}\n"
                + "\tchain input {\n"
                + "\t\ttype filter hook input priority filter; policy drop;\n"
                + "\t\tiif \"lo\" accept\n"
                + "\t\tct state established,related accept\n"
                + neighbourDiscovery()
                + "\t}\n"
                + "\tchain forward {\n"
                + "\t\ttype filter hook forward priority filter; policy drop;\n"
                + "\t}\n"
                + "}\n"
                // The same wall once more on the cage's end of the link, for packets that no output chain
                // sees: gVisor's own network stack (runtime runsc) sends through a packet socket.
                + "table netdev " + LINK_TABLE + " {\n"
                + "\tchain egress {\n"
                + "\t\ttype filter hook egress device \"" + CageLink.CAGE_SIDE_NAME + "\" priority filter; policy drop;\n"
                + "\t\tmeta protocol arp accept\n"
                + "\t\tip daddr " + gw4 + " tcp dport " + tcp + " accept\n"
                + "\t\tip daddr " + gw4 + " udp dport " + ports.dns() + " accept\n"
                + (gw6 == null ? "" : "\t\tip6 daddr " + gw6 + " tcp dport " + tcp + " accept\n"
                + "\t\tip6 daddr " + gw6 + " udp dport " + ports.dns() + " accept\n")
                + "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
                + "\t}\n"
                + "}\n";
    }

    public static String hostRuleset(CageLink link, GatewayPorts ports, GatewayPorts.Services services) {
        String tcp = portSet(ports, services);
        String veth = "\"" + link.hostInterface() + "\"";
        return "table inet " + hostTable(link) + " {\n"
                + "\tchain input {\n"
                + "\t\ttype filter hook input priority filter - 10; policy accept;\n"
                + "\t\tiifname " + veth + " ip daddr " + link.gateway4() + " tcp dport " + tcp + " accept\n"
                + "\t\tiifname " + veth + " ip daddr " + link.gateway4() + " udp dport " + ports.dns() + " accept\n"
                + "\t\tiifname " + veth + " ip6 daddr " + link.gateway6() + " tcp dport " + tcp + " accept\n"
                + "\t\tiifname " + veth + " ip6 daddr " + link.gateway6() + " udp dport " + ports.dns() + " accept\n"
                + "\t\tiifname " + veth + " icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
                + "\t\tiifname " + veth + " drop\n"
                + "\t}\n"
                + "\tchain forward {\n"
                + "\t\ttype filter hook forward priority filter - 10; policy accept;\n"
                + "\t\tiifname " + veth + " drop\n"
                + "\t\toifname " + veth + " drop\n"
                + "\t}\n"
                + "}\n";
    }

    /**
     * The host's table for a cage whose gateway is {@code gateway4} elsewhere: the host itself takes nothing
     * from the cage's veth, and forwards from it only to the gateway's ports (and the replies back). It
     * needs net.ipv4.ip_forward, and a route back to the cage's pool where the gateway is.
     */
    public static String hostRulesetToGateway(CageLink link, String gateway4, GatewayPorts ports,
                                              GatewayPorts.Services services) {
        String tcp = portSet(ports, services);
        String veth = "\"" + link.hostInterface() + "\"";
        return "table inet " + hostTable(link) + " {\n"
                + "\tchain input {\n"
                + "\t\ttype filter hook input priority filter - 10; policy accept;\n"
                + "\t\tiifname " + veth + " icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
                + "\t\tiifname " + veth + " drop\n"
                + "\t}\n"
                + "\tchain forward {\n"
                + "\t\ttype filter hook forward priority filter - 10; policy accept;\n"
                + "\t\tiifname " + veth + " ip daddr " + gateway4 + " tcp dport " + tcp + " accept\n"
                + "\t\tiifname " + veth + " ip daddr " + gateway4 + " udp dport " + ports.dns() + " accept\n"
                + "\t\toifname " + veth + " ip saddr " + gateway4 + " ct state established,related accept\n"
                + "\t\tiifname " + veth + " drop\n"
                + "\t\toifname " + veth + " drop\n"
                + "\t}\n"
                + "}\n";
    }

    /** Without neighbour discovery there is no IPv6 on the link; router and multicast chatter stays unlogged. */
    private static String neighbourDiscovery() {
        return "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
                + "\t\ticmpv6 type { nd-router-solicit, mld-listener-report, mld2-listener-report } drop\n";
    }

    private static String portSet(GatewayPorts ports, GatewayPorts.Services services) {
        return ports.tcpPorts(services).stream().map(String::valueOf).collect(Collectors.joining(", ", "{ ", " }"));
    }
}
