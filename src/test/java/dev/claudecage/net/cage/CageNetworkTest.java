package dev.claudecage.net.cage;

import dev.claudecage.CageException;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.testing.FakeProcesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact ip and nft commands that put a filtered cage's network in place and take it down. */
class CageNetworkTest {

    private static final EgressSettings SETTINGS = new EgressSettings(Map.of(), 0, 64,
            URI.create("https://api.anthropic.com"), "10.213.0.0/16", "fd63:6167:6500::/48");
    private static final GatewayPorts.Services PROXY_ONLY = new GatewayPorts.Services(false, false);
    /** Slot 0 is taken by a cage that runs already: the new cage gets slot 1. */
    private static final String LINKS = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n"
            + "7: cgh0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 link-netns claude-cage-run-1\n";

    @Test
    void buildsTheLinkBehindBothFirewallsThenTakesItDownLastFirst(@TempDir Path dir) {
        FakeProcesses processes = new FakeProcesses().answer(List.of("ip", "-o", "link", "show"), 0, LINKS, "");
        CageNetwork network = CageNetwork.create("c1", SETTINGS, GatewayPorts.STANDARD, PROXY_ONLY,
                dir.resolve("network.lock"), processes.runner());
        CageLink link = CageLink.allocate("c1", 1, SETTINGS.networkPool(), SETTINGS.networkPool6());
        String ns = "claude-cage-c1";
        assertEquals(List.of(
                List.of("ip", "-o", "link", "show"),
                List.of("ip", "netns", "add", ns),
                List.of("ip", "link", "add", "cgh1", "type", "veth", "peer", "name", "cgc1"),
                List.of("ip", "link", "set", "cgc1", "netns", ns),
                List.of("ip", "-n", ns, "link", "set", "cgc1", "name", "eth0"),
                List.of("ip", "-n", ns, "link", "set", "lo", "up"),
                List.of("nft", "-f", "-"),
                List.of("ip", "netns", "exec", ns, "nft", "-f", "-"),
                List.of("ip", "addr", "add", "10.213.0.5/30", "dev", "cgh1"),
                List.of("ip", "addr", "add", "fd63:6167:6500:1:0:0:0:1/64", "dev", "cgh1", "nodad"),
                List.of("ip", "link", "set", "cgh1", "up"),
                List.of("ip", "-n", ns, "addr", "add", "10.213.0.6/30", "dev", "eth0"),
                List.of("ip", "-n", ns, "addr", "add", "fd63:6167:6500:1:0:0:0:2/64", "dev", "eth0", "nodad"),
                List.of("ip", "-n", ns, "link", "set", "eth0", "up"),
                List.of("ip", "-n", ns, "route", "add", "default", "via", "10.213.0.5"),
                List.of("ip", "-n", ns, "-6", "route", "add", "default", "via", "fd63:6167:6500:1:0:0:0:1")),
                processes.commands());
        // The firewalls go in before either end of the link is up, each whole in one nft call.
        assertEquals(Firewall.hostRuleset(link, GatewayPorts.STANDARD, PROXY_ONLY), processes.started().get(6).stdin());
        assertEquals(Firewall.cageRuleset(link, GatewayPorts.STANDARD, PROXY_ONLY), processes.started().get(7).stdin());

        network.close();
        assertEquals(List.of(
                List.of("nft", "delete", "table", "inet", "claude_cage_cgh1"),
                List.of("ip", "netns", "delete", ns),
                List.of("ip", "link", "delete", "cgh1")),
                processes.commands().subList(16, 19));
        network.close();
        assertEquals(19, processes.commands().size(), "a second close does nothing");
    }

    @Test
    void aRefusedFirewallTakesDownWhatWasBuiltAndWhatIsGoneIsNoFailure(@TempDir Path dir) {
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("nft", "-f", "-"), 1, "", "Error: Could not process rule: No such file or directory")
                // The host's end went with the namespace: gone already, no failure of the teardown.
                .answer(List.of("ip", "link", "delete"), 1, "", "Cannot find device \"cgh0\"");
        CageException failure = assertThrows(CageException.class, () -> CageNetwork.create("c1", SETTINGS,
                GatewayPorts.STANDARD, PROXY_ONLY, dir.resolve("network.lock"), processes.runner()));
        assertTrue(failure.getMessage().startsWith("'nft -f -' failed with exit code 1"), failure.getMessage());
        assertEquals(0, failure.getSuppressed().length, "the teardown itself went through");
        List<List<String>> commands = processes.commands();
        assertEquals(List.of(
                List.of("nft", "delete", "table", "inet", "claude_cage_cgh0"),
                List.of("ip", "netns", "delete", "claude-cage-c1"),
                List.of("ip", "link", "delete", "cgh0")),
                commands.subList(commands.size() - 3, commands.size()));
    }

    @Test
    void aTeardownStepThatFailsIsNamedAndTheOthersStillRun(@TempDir Path dir) {
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("ip", "netns", "delete"), 1, "", "Cannot remove namespace file: Device or resource busy");
        CageNetwork network = CageNetwork.create("c1", SETTINGS, GatewayPorts.STANDARD, PROXY_ONLY,
                dir.resolve("network.lock"), processes.runner());
        CageException failure = assertThrows(CageException.class, network::close);
        assertEquals("network teardown of cage c1 was incomplete: delete the namespace: 'ip netns delete "
                + "claude-cage-c1' failed with exit code 1: Cannot remove namespace file: Device or resource busy",
                failure.getMessage());
        assertEquals(List.of("ip", "link", "delete", "cgh0"), processes.commands().get(processes.commands().size() - 1));
    }
}
