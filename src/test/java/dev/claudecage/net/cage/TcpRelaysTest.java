package dev.claudecage.net.cage;

import dev.claudecage.CageException;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.proxy.RelayRoute;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpRelaysTest {

    private static List<RelayRoute> plan(Set<String> apiHosts, String... entries) {
        EgressPolicy policy = new EgressPolicy(List.of(entries).stream().map(HostRule::parse).toList(), Map.of(),
                1L << 30, 64, apiHosts);
        return TcpRelays.plan(policy, GatewayPorts.STANDARD, Set.of());
    }

    private static List<RelayRoute> plan(String... entries) {
        return plan(Set.of(), entries);
    }

    @Test
    void anExactEntryOnAnotherPortIsRelayedOnThatPort() {
        assertEquals(List.of(new RelayRoute("db.example.com", 5432, 5432), new RelayRoute("github.com", 22, 22)),
                plan("db.example.com:5432", "api.example.com", "github.com:22", "deb.debian.org:80"));
    }

    @Test
    void wildcardsAndTheApisHostsGetNoRelay() {
        assertEquals(List.of(), plan(Set.of("api.anthropic.com"), "*.example.com:5432", "api.anthropic.com:8443"));
    }

    /** Two entries on one port: the first in allowed_hosts keeps it, the other gets a port of its own. */
    @Test
    void entriesSharingAPortEachGetTheirOwnGatewayPort() {
        assertEquals(List.of(new RelayRoute("a.example.com", 5432, 5432), new RelayRoute("b.example.com", 5432, 40000),
                        new RelayRoute("c.example.com", 5432, 40001)),
                plan("a.example.com:5432", "b.example.com:5432", "c.example.com:5432"));
    }

    /** The gateway's own services keep their ports; an entry on one of them moves, past ports other entries use. */
    @Test
    void anEntryOnAGatewayServicePortMovesAndSkipsPortsEntriesHold() {
        assertEquals(List.of(new RelayRoute("squid.example.com", 3128, 40001), new RelayRoute("x.example.com", 40000, 40000),
                        new RelayRoute("dns.example.com", 53, 40002), new RelayRoute("web.example.com", 8080, 40003)),
                plan("squid.example.com:3128", "x.example.com:40000", "dns.example.com:53", "web.example.com:8080"));
    }

    /** sshd on 0.0.0.0:22 holds the gateway's port 22 too: github.com:22 moves rather than stop every cage. */
    @Test
    void anEntryOnAPortTheHostHoldsAtEveryAddressMoves() {
        EgressPolicy policy = new EgressPolicy(List.of(HostRule.parse("github.com:22"), HostRule.parse("db.example.com:5432")),
                Map.of(), 1L << 30, 64, Set.of());
        assertEquals(List.of(new RelayRoute("github.com", 22, 40000), new RelayRoute("db.example.com", 5432, 5432)),
                TcpRelays.plan(policy, GatewayPorts.STANDARD, Set.of(22, 40000 - 1)));
        assertEquals(List.of(new RelayRoute("github.com", 22, 40001), new RelayRoute("db.example.com", 5432, 5432)),
                TcpRelays.plan(policy, GatewayPorts.STANDARD, Set.of(22, 40000)), "a held port is never given");
    }

    @Test
    void aPolicyWithoutRelaysNeverReadsTheHostsTables() {
        EgressPolicy web = new EgressPolicy(List.of(HostRule.parse("example.com"), HostRule.parse("*.example.org:5432")),
                Map.of(), 1L << 30, 64, Set.of());
        assertEquals(List.of(), TcpRelays.plan(web, GatewayPorts.STANDARD, () -> {
            throw new AssertionError("the host's tables were read for a policy without relays");
        }));
        // Positive control: an exact entry on another port asks for them.
        EgressPolicy database = new EgressPolicy(List.of(HostRule.parse("db.example.com:22")), Map.of(), 1L << 30, 64,
                Set.of());
        AtomicInteger asked = new AtomicInteger();
        assertEquals(List.of(new RelayRoute("db.example.com", 22, 40000)), TcpRelays.plan(database,
                GatewayPorts.STANDARD, () -> {
                    asked.incrementAndGet();
                    return Set.of(22);
                }));
        assertEquals(1, asked.get());
    }

    @Test
    void theHostsListenersOnEveryAddressAreReadFromItsTcpTables() {
        List<String> tcp = List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1215 1",
                "   1: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1216 1",
                "   2: 00000000:9C40 0100007F:DB84 06 00000000:00000000 03:0000029A 00000000     0        0 0 3",
                "\t3:\t00000000:0050\t00000000:0000\t0A\t00000000:00000000",
                "   4: 00000000:0051 00000000:0000",
                "");
        List<String> tcp6 = List.of(
                "  sl  local_address                         remote_address                        st tx_queue",
                "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000",
                "   1: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 00000000:00000000");
        assertEquals(Set.of(22, 80), HostListeners.portsOnAllAddresses(tcp),
                "loopback-only and closing sockets hold nothing, nor does a line cut short");
        assertEquals(Set.of(8080), HostListeners.portsOnAllAddresses(tcp6));
    }

    @Test
    void aRepeatedEntryIsOneRelay() {
        assertEquals(List.of(new RelayRoute("db.example.com", 5432, 5432)), plan("db.example.com:5432", "DB.example.com:5432"));
    }

    @Test
    void theCageFindsEveryRelayInOneVariable() {
        List<RelayRoute> routes = plan("a.example.com:5432", "b.example.com:5432");
        assertEquals(List.of("CLAUDE_CAGE_TCP_RELAYS=a.example.com:5432=5432 b.example.com:5432=40000"),
                TcpRelays.environment(routes));
        assertEquals(List.of(), TcpRelays.environment(List.of()));
        assertEquals(List.of(5432, 40000), TcpRelays.gatewayPorts(routes));
    }

    @Test
    void moreRelaysThanTheBoundAreRefusedWithWhatToDo() {
        String[] entries = IntStream.rangeClosed(1, TcpRelays.MAX_RELAYS + 1).mapToObj(i -> "h" + i + ".example.com:5432")
                .toArray(String[]::new);
        CageException e = assertThrows(CageException.class, () -> plan(entries));
        assertTrue(e.getMessage().contains("65 exact entries on ports other than 80 and 443"), e.getMessage());
    }
}
