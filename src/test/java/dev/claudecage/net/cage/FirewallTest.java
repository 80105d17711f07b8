package dev.claudecage.net.cage;

import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FirewallTest {

    private static final CageLink LINK = CageLink.allocate("run-0123456789ab", 3, "10.213.0.0/16", "fd63:6167:6500::/48");
    private static final GatewayPorts PORTS = GatewayPorts.STANDARD;
    /** Neither the API gateway (no key on the host) nor the git gateway (no git_credentials). */
    private static final GatewayPorts.Services PROXY_ONLY = new GatewayPorts.Services(false, false);

    @Test
    void cageRulesetMatchesTheGoldenFile() throws Exception {
        Golden.assertMatches(Path.of("security/golden/nft-cage.nft"),
                Firewall.cageRuleset(LINK, PORTS, GatewayPorts.Services.ALL));
        Golden.assertMatches(Path.of("security/golden/nft-cage-proxy-only.nft"), Firewall.cageRuleset(LINK, PORTS, PROXY_ONLY));
    }

    @Test
    void hostRulesetMatchesTheGoldenFile() throws Exception {
        Golden.assertMatches(Path.of("security/golden/nft-host.nft"),
                Firewall.hostRuleset(LINK, PORTS, GatewayPorts.Services.ALL));
        Golden.assertMatches(Path.of("security/golden/nft-host-proxy-only.nft"), Firewall.hostRuleset(LINK, PORTS, PROXY_ONLY));
    }

    /** network: gateway:ADDRESS: the cage's only destination is the external gateway, which the host forwards to. */
    @Test
    void aCageLedToAnExternalGatewayReachesOnlyItsPorts() throws Exception {
        String cage = Firewall.cageRulesetToGateway("10.214.9.2", PORTS, GatewayPorts.Services.ALL);
        String host = Firewall.hostRulesetToGateway(LINK, "10.214.9.2", PORTS, GatewayPorts.Services.ALL);
        Golden.assertMatches(Path.of("security/golden/nft-cage-external-gateway.nft"), cage);
        Golden.assertMatches(Path.of("security/golden/nft-host-external-gateway.nft"), host);
        assertTrue(cage.contains("ip daddr 10.214.9.2 tcp dport { 53, 80, 443, 3128, 8080, 8081 } accept"));
        assertFalse(cage.contains(LINK.gateway4()), "the link's host end is no destination");
        assertFalse(cage.contains("ip6 daddr"), "the external gateway is reached over IPv4 only");
        assertTrue(host.contains("iifname \"cgh3\" ip daddr 10.214.9.2 tcp dport { 53, 80, 443, 3128, 8080, 8081 } accept"));
        assertTrue(host.contains("oifname \"cgh3\" ip saddr 10.214.9.2 ct state established,related accept"));
        // The host itself takes nothing from the cage but neighbour discovery.
        String input = host.substring(host.indexOf("chain input"), host.indexOf("chain forward"));
        assertTrue(input.endsWith("iifname \"cgh3\" drop\n\t}\n\t"), input);
        assertFalse(host.contains("ip daddr " + LINK.gateway4()), host);
    }

    @Test
    void cageOutputDropsByDefaultAndOpensOnlyTheGatewayPortsInBothFamilies() {
        String rules = Firewall.cageRuleset(LINK, PORTS, GatewayPorts.Services.ALL);
        assertTrue(rules.contains("type filter hook output priority filter; policy drop;"));
        assertTrue(rules.contains("ip daddr 10.213.0.13 tcp dport { 53, 80, 443, 3128, 8080, 8081 } accept"));
        assertTrue(rules.contains("ip6 daddr fd63:6167:6500:3:0:0:0:1 tcp dport { 53, 80, 443, 3128, 8080, 8081 } accept"));
        assertTrue(rules.contains("ip daddr 10.213.0.13 udp dport 53 accept"));
        assertTrue(rules.contains("ip6 daddr fd63:6167:6500:3:0:0:0:1 udp dport 53 accept"));
        assertTrue(rules.contains("log group 7"));
        assertFalse(rules.contains("nat"), "nothing is NATed");
    }

    /** Attack 6: port 8081 was open on both walls with no git gateway behind it, for any host service there. */
    @Test
    void attack6AGatewayPortIsOpenOnlyWhileItsServiceRuns() {
        String base = "{ 53, 80, 443, 3128";
        for (boolean api : new boolean[] {false, true}) {
            for (boolean git : new boolean[] {false, true}) {
                GatewayPorts.Services services = new GatewayPorts.Services(api, git);
                String expected = base + (api ? ", 8080" : "") + (git ? ", 8081" : "") + " }";
                // The cage's namespace holds the wall twice: its output chain and the egress of its end of the link.
                String cage = Firewall.cageRuleset(LINK, PORTS, services);
                assertEquals(4, cage.split("tcp dport " + Pattern.quote(expected) + " accept", -1).length - 1,
                        services + ": both families open exactly " + expected + " in both chains\n" + cage);
                String host = Firewall.hostRuleset(LINK, PORTS, services);
                assertEquals(2, host.split("tcp dport " + Pattern.quote(expected) + " accept", -1).length - 1,
                        services + ": both families open exactly " + expected + "\n" + host);
            }
        }
    }

    /**
     * TCP relays (allowed_hosts entries on other ports): both walls open exactly the relays' gateway ports, beside the
     * services that run, and without an entry nothing more; the idle ports stay those of the gateways.
     */
    @Test
    void aRelayPortIsOpenOnlyForAnEntryThatHasOne() throws Exception {
        GatewayPorts.Services relays = PROXY_ONLY.withRelayPorts(List.of(5432, 22, 40000));
        String cage = Firewall.cageRuleset(LINK, PORTS, relays);
        String host = Firewall.hostRuleset(LINK, PORTS, relays);
        Golden.assertMatches(Path.of("security/golden/nft-cage-tcp-relays.nft"), cage);
        Golden.assertMatches(Path.of("security/golden/nft-host-tcp-relays.nft"), host);
        String relayPorts = "tcp dport \\{ 53, 80, 443, 3128, 5432, 22, 40000 } accept";
        assertEquals(4, cage.split(relayPorts, -1).length - 1, "output chain and link egress, both families: " + cage);
        assertEquals(2, host.split(relayPorts, -1).length - 1, host);
        for (String rules : new String[] {Firewall.cageRuleset(LINK, PORTS, PROXY_ONLY), Firewall.hostRuleset(LINK, PORTS, PROXY_ONLY)}) {
            assertFalse(rules.contains("5432") || rules.contains("40000"), rules);
        }
        assertEquals(List.of(8080, 8081), PORTS.idleTcpPorts(relays));
    }

    @Test
    void theIdlePortsAreThoseOfServicesThatDoNotRun() {
        assertEquals(List.of(8080, 8081), PORTS.idleTcpPorts(PROXY_ONLY));
        assertEquals(List.of(8081), PORTS.idleTcpPorts(new GatewayPorts.Services(true, false)));
        assertEquals(List.of(), PORTS.idleTcpPorts(GatewayPorts.Services.ALL));
    }

    @Test
    void hostForwardsNothingForTheCage() {
        String rules = Firewall.hostRuleset(LINK, PORTS, PROXY_ONLY);
        assertTrue(rules.contains("iifname \"cgh3\" drop\n\t\toifname \"cgh3\" drop"));
        assertTrue(rules.contains("table inet claude_cage_cgh3"));
    }
}
