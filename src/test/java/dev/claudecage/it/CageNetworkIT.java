package dev.claudecage.it;

import dev.claudecage.config.EgressSettings;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.cage.CageLink;
import dev.claudecage.net.cage.CageNetwork;
import dev.claudecage.net.cage.DropLogger;
import dev.claudecage.net.cage.Firewall;
import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.host.Netns;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.verify.Canary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filtered cage's network with real namespaces and nft, probed from inside the cage's
 * namespace: only the gateway's service ports answer; the test's canary host, other ports on
 * the gateway, UDP and IPv6 all stay silent, and with the firewall taken down (the positive
 * control) the same probes reach the canary.
 */
class CageNetworkIT {

    private static final ProcessRunner RUNNER = new ProcessRunner(false);
    private static final EgressSettings SETTINGS = new EgressSettings(Map.of(), 1L << 30, 64,
            URI.create("https://api.anthropic.com"), "10.213.0.0/16", "fd63:6167:6500::/48");
    private static final int FORBIDDEN_PORT = 9999;

    @BeforeEach
    void requireRoot() throws Exception {
        CageHarness.requireRootAndRootfs();
        assertEquals(List.of(), NetworkLeftovers.list(), "the host holds network leftovers before the test");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), NetworkLeftovers.list(), "the test left network state behind");
    }

    /** Connects from inside the cage's namespace; true when the connection (or datagram) went through. */
    private static boolean reach(CageNetwork network, String protocol, String address, int port) {
        String target = address.contains(":") ? "[" + address + "]" : address;
        String script = "exec 3<>/dev/" + protocol + "/" + address + "/" + port + " && echo probe >&3";
        var result = RUNNER.runAllowingFailure(network.inNamespace(List.of("timeout", "5", "bash", "-c", script)),
                Duration.ofSeconds(20));
        System.out.println("probe " + protocol + " " + target + ":" + port + " -> exit " + result.exitCode()
                + " " + result.stderr().strip());
        return result.succeeded();
    }

    @Test
    void onlyTheGatewayServicePortsAreReachable() throws Exception {
        try (TestNetwork internet = new TestNetwork("net")) {
            TestNetwork.TestHost canaryHost = internet.addHost("canary");
            try (Canary canary = Netns.call(canaryHost.namespace(), () -> Canary.open(
                    List.of(canaryHost.address4(), canaryHost.address6()), List.of(80, 443, FORBIDDEN_PORT), List.of(53)));
                 CageNetwork network = CageNetwork.create("it-" + System.nanoTime() % 100000, SETTINGS,
                         GatewayPorts.STANDARD, GatewayPorts.Services.ALL, Path.of("/run/claude-cage/network.lock"),
                         RUNNER)) {
                CageLink link = network.link();
                String gw6 = link.hostAddress6().getHostAddress();
                try (Canary gateway = Canary.open(List.of(link.gateway4(), gw6),
                        List.of(GatewayPorts.STANDARD.proxy(), FORBIDDEN_PORT), List.of(GatewayPorts.STANDARD.dns()))) {
                    assertTrue(reach(network, "tcp", link.gateway4(), GatewayPorts.STANDARD.proxy()));
                    assertTrue(reach(network, "tcp", gw6, GatewayPorts.STANDARD.proxy()));
                    assertTrue(reach(network, "udp", link.gateway4(), GatewayPorts.STANDARD.dns()));
                    Thread.sleep(200);
                    List<String> serviceHits = gateway.takeHits();
                    assertEquals(3, serviceHits.size(), serviceHits.toString());

                    assertFalse(reach(network, "tcp", link.gateway4(), FORBIDDEN_PORT));
                    assertFalse(reach(network, "tcp", gw6, FORBIDDEN_PORT));
                    for (String address : List.of(canaryHost.address4(), canaryHost.address6())) {
                        assertFalse(reach(network, "tcp", address, 80));
                        assertFalse(reach(network, "tcp", address, 443));
                        reach(network, "udp", address, 53);
                    }
                    Thread.sleep(500);
                    assertEquals(List.of(), gateway.takeHits(), "a forbidden port on the gateway was reached");
                    assertEquals(List.of(), canary.takeHits(), "the canary host was reached");

                    // Positive control: the same probes with every firewall gone (the cage's table, its link's
                    // egress chain, the host's) and the two links forwarding.
                    RUNNER.run(network.inNamespace(List.of("nft", "delete", "table", "inet", Firewall.CAGE_TABLE)),
                            Duration.ofSeconds(10));
                    RUNNER.run(network.inNamespace(List.of("nft", "delete", "table", "netdev", Firewall.LINK_TABLE)),
                            Duration.ofSeconds(10));
                    RUNNER.run(List.of("nft", "delete", "table", "inet", Firewall.hostTable(link)), Duration.ofSeconds(10));
                    for (String device : List.of(link.hostInterface(), canaryHost.hostInterface())) {
                        RUNNER.run(List.of("sysctl", "-q", "-w", "net.ipv4.conf." + device + ".forwarding=1"),
                                Duration.ofSeconds(10));
                    }
                    assertTrue(reach(network, "tcp", link.gateway4(), FORBIDDEN_PORT), "control: gateway port");
                    assertTrue(reach(network, "tcp", gw6, FORBIDDEN_PORT), "control: gateway port over IPv6");
                    assertTrue(reach(network, "tcp", canaryHost.address4(), 80), "control: canary by IP");
                    Thread.sleep(300);
                    assertEquals(2, gateway.takeHits().size());
                    assertFalse(canary.takeHits().isEmpty(), "control: the canary must record the hit");
                }
            }
        }
    }

    /**
     * tcpdump reads packets the cage crafts: it must hold no root once it listens, and still
     * record what the firewall drops. The uid and capabilities are read from /proc, as the kernel has them.
     */
    @Test
    void theDropLoggerRunsAsTcpdumpWithoutCapabilitiesAndStillRecordsDrops(@TempDir Path dir) throws Exception {
        String tcpdumpUid = RUNNER.run(List.of("id", "-u", "tcpdump"), Duration.ofSeconds(10)).stdout().strip();
        Path auditFile = dir.resolve("audit.jsonl");
        try (CageNetwork network = CageNetwork.create("it-" + System.nanoTime() % 100000, SETTINGS,
                GatewayPorts.STANDARD, GatewayPorts.Services.ALL, Path.of("/run/claude-cage/network.lock"), RUNNER);
             AuditLog audit = AuditLog.open(auditFile, List.of())) {
            DropLogger logger = DropLogger.start(network, audit, RUNNER);
            try {
                ProcessHandle tcpdump = ProcessHandle.current().descendants()
                        .filter(process -> process.info().command().orElse("").endsWith("/tcpdump"))
                        .findFirst().orElseThrow(() -> new AssertionError("no tcpdump under this JVM"));
                Map<String, String> status = new java.util.HashMap<>();
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(tcpdump.pid()), "status"))) {
                    int colon = line.indexOf(':');
                    status.put(line.substring(0, colon), line.substring(colon + 1).strip());
                }
                assertEquals(List.of(tcpdumpUid, tcpdumpUid, tcpdumpUid, tcpdumpUid), List.of(status.get("Uid").split("\\s+")),
                        "real, effective, saved and file-system uid: " + status);
                assertEquals("0000000000000000", status.get("CapEff"), status.toString());
                assertEquals("0000000000000000", status.get("CapPrm"), status.toString());
                assertEquals("1", status.get("NoNewPrivs"), status.toString());

                assertFalse(reach(network, "tcp", network.link().gateway4(), FORBIDDEN_PORT));
                Thread.sleep(300);
            } finally {
                // Closing waits for the reader, so every drop tcpdump printed is in the log.
                logger.close();
            }
            List<AuditEvent> drops = AuditLog.read(auditFile).stream()
                    .filter(event -> event.source().equals("firewall") && Integer.valueOf(FORBIDDEN_PORT).equals(event.port()))
                    .toList();
            assertEquals(network.link().gateway4(), drops.stream().findFirst()
                    .orElseThrow(() -> new AssertionError("the unprivileged tcpdump recorded no drop")).destination());
        }
    }
}
