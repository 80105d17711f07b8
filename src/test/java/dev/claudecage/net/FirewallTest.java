package dev.claudecage.net;

import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FirewallTest {

    private static final CageLink LINK = CageLink.allocate("run-0123456789ab", 3, "10.213.0.0/16", "fd63:6167:6500::/48");

    @Test
    void cageRulesetMatchesTheGoldenFile() throws Exception {
        Golden.assertMatches(Path.of("security/golden/nft-cage.nft"), Firewall.cageRuleset(LINK, GatewayPorts.STANDARD));
    }

    @Test
    void hostRulesetMatchesTheGoldenFile() throws Exception {
        Golden.assertMatches(Path.of("security/golden/nft-host.nft"), Firewall.hostRuleset(LINK, GatewayPorts.STANDARD));
    }

    @Test
    void cageOutputDropsByDefaultAndOpensOnlyTheGatewayPortsInBothFamilies() {
        String rules = Firewall.cageRuleset(LINK, GatewayPorts.STANDARD);
        assertTrue(rules.contains("type filter hook output priority filter; policy drop;"));
        assertTrue(rules.contains("ip daddr 10.213.0.13 tcp dport { 53, 80, 443, 3128, 8080, 8081 } accept"));
        assertTrue(rules.contains("ip6 daddr fd63:6167:6500:3:0:0:0:1 tcp dport { 53, 80, 443, 3128, 8080, 8081 } accept"));
        assertTrue(rules.contains("ip daddr 10.213.0.13 udp dport 53 accept"));
        assertTrue(rules.contains("ip6 daddr fd63:6167:6500:3:0:0:0:1 udp dport 53 accept"));
        assertTrue(rules.contains("log group 7"));
        assertFalse(rules.contains("nat"), "nothing is NATed");
    }

    @Test
    void hostForwardsNothingForTheCage() {
        String rules = Firewall.hostRuleset(LINK, GatewayPorts.STANDARD);
        assertTrue(rules.contains("iifname \"cgh3\" drop\n\t\toifname \"cgh3\" drop"));
        assertTrue(rules.contains("table inet claude_cage_cgh3"));
    }
}
