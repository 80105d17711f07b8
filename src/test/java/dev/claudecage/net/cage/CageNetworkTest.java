package dev.claudecage.net.cage;

import dev.claudecage.CageException;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.testing.FakeProcesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact ip and nft commands that put a filtered cage's network in place and take it down. */
class CageNetworkTest {

    private static final EgressSettings SETTINGS = new EgressSettings(Map.of(), 0, 64,
            URI.create("https://api.anthropic.com"), "10.213.0.0/16", "fd63:6167:6500::/48");
    private static final GatewayPorts.Services PROXY_ONLY = new GatewayPorts.Services(false, false);
    /** The host's interfaces as /proc/net/dev lists them: none of a cage. */
    private static final String NO_CAGE = "Inter-|   Receive    |  Transmit\n"
            + " face |bytes    packets|bytes    packets\n"
            + "    lo: 200270414888 6868514 200270414888 6868514\n"
            + "  eth0: 1000 10 2000 20\n";
    /** Slot 0 is taken by a cage that runs already: the new cage gets slot 1. */
    private static final String ONE_CAGE = NO_CAGE + "  cgh0: 0 0 0 0\n";
    /** The link and the namespace go in one ip process that goes on past a line that fails. */
    private static final List<String> REMOVAL = List.of("ip", "-force", "-batch", "-");

    @Test
    void buildsTheLinkBehindBothFirewallsThenTakesItDown(@TempDir Path dir) throws IOException {
        FakeProcesses processes = new FakeProcesses();
        CageNetwork network = create(dir, ONE_CAGE, processes);
        CageLink link = CageLink.allocate("c1", 1, SETTINGS.networkPool(), SETTINGS.networkPool6());
        String ns = "claude-cage-c1";
        List<FakeProcesses.Started> started = processes.started();
        // Two pairs run side by side: which of a pair starts first is the scheduler's.
        assertEquals(Set.of(
                List.of("ip", "-batch", "-"),
                List.of("nft", "-f", "-"),
                List.of("ip", "netns", "exec", ns, "nft", "-f", "-"),
                List.of("ip", "-n", ns, "-batch", "-")),
                Set.copyOf(processes.commands()));
        assertEquals(5, started.size());
        // The cage's end is made in the namespace, already named eth0: it never shows up on the host.
        int made = indexOf(started, "netns add " + ns + "\n"
                + "link add cgh1 type veth peer name eth0 netns " + ns + "\n");
        // The firewalls go in each whole in one nft call, and each end comes up only after its side's table.
        int hostTable = indexOf(started, Firewall.hostRuleset(link, GatewayPorts.STANDARD, PROXY_ONLY));
        int cageTable = indexOf(started, Firewall.cageRuleset(link, GatewayPorts.STANDARD, PROXY_ONLY));
        int hostUp = indexOf(started, "addr add 10.213.0.5/30 dev cgh1\n"
                + "addr add fd63:6167:6500:1:0:0:0:1/64 dev cgh1 nodad\n"
                + "link set cgh1 up\n");
        int cageUp = indexOf(started, "link set lo up\n"
                + "addr add 10.213.0.6/30 dev eth0\n"
                + "addr add fd63:6167:6500:1:0:0:0:2/64 dev eth0 nodad\n"
                + "link set eth0 up\n"
                + "route add default via 10.213.0.5\n"
                + "route add ::/0 via fd63:6167:6500:1:0:0:0:1\n");
        assertEquals(List.of("nft", "-f", "-"), started.get(hostTable).command());
        assertEquals(List.of("ip", "netns", "exec", ns, "nft", "-f", "-"), started.get(cageTable).command());
        assertEquals(List.of("ip", "-n", ns, "-batch", "-"), started.get(cageUp).command());
        assertTrue(made < cageTable, "the cage's table hooks the cage's end, so it comes after the end is made");
        assertTrue(made < hostUp && hostTable < hostUp, "the host's end comes up after its table: " + processes.commands());
        assertTrue(cageTable < cageUp, "the cage's end comes up after its table: " + processes.commands());

        network.close();
        List<List<String>> teardown = processes.commands().subList(5, 7);
        assertEquals(Set.of(
                List.of("nft", "delete", "table", "inet", "claude_cage_cgh1"),
                REMOVAL),
                Set.copyOf(teardown));
        // The link goes first (the namespace may outlive its name, held by the cage's namespace holder).
        indexOf(processes.started(), "link delete cgh1\nnetns delete " + ns + "\n");
        network.close();
        assertEquals(7, processes.commands().size(), "a second close does nothing");
    }

    @Test
    void aRefusedFirewallTakesDownWhatWasBuiltAndWhatIsGoneIsNoFailure(@TempDir Path dir) {
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("nft", "-f", "-"), 1, "", "Error: Could not process rule: No such file or directory")
                // The host's end went with the namespace: gone already, no failure of the teardown.
                .answer(REMOVAL, 1, "", "Cannot find device \"cgh0\"\nCommand failed -:1");
        CageException failure = assertThrows(CageException.class, () -> create(dir, NO_CAGE, processes));
        assertTrue(failure.getMessage().startsWith("'nft -f -' failed with exit code 1"), failure.getMessage());
        assertEquals(0, failure.getSuppressed().length, "the teardown itself went through");
        List<List<String>> commands = processes.commands();
        // The host's table and the link were made side by side; the cage's table never was.
        assertEquals(List.of(Set.of(List.of("ip", "-batch", "-"), List.of("nft", "-f", "-")), Set.of(
                List.of("nft", "delete", "table", "inet", "claude_cage_cgh0"),
                REMOVAL)),
                List.of(Set.copyOf(commands.subList(0, 2)), Set.copyOf(commands.subList(2, commands.size()))));
        assertEquals(4, commands.size());
    }

    @Test
    void anIpLineThatFailsIsNamedAndWhatWasBuiltIsTakenDown(@TempDir Path dir) {
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("ip", "-batch", "-"), 1, "", "RTNETLINK answers: File exists\nCommand failed -:2");
        CageException failure = assertThrows(CageException.class, () -> create(dir, NO_CAGE, processes));
        assertTrue(failure.getMessage().startsWith("'ip -batch -' failed with exit code 1: RTNETLINK answers: File exists"),
                failure.getMessage());
        assertTrue(failure.getMessage().endsWith("(at 'ip link add cgh0 type veth peer name eth0 netns claude-cage-c1')"),
                failure.getMessage());
        List<List<String>> commands = processes.commands();
        assertEquals(List.of(Set.of(List.of("ip", "-batch", "-"), List.of("nft", "-f", "-")), Set.of(
                List.of("nft", "delete", "table", "inet", "claude_cage_cgh0"),
                REMOVAL)),
                List.of(Set.copyOf(commands.subList(0, 2)), Set.copyOf(commands.subList(2, commands.size()))));
        assertEquals(4, commands.size());
    }

    @Test
    void aTeardownStepThatFailsIsNamedAndTheOthersStillRun(@TempDir Path dir) throws IOException {
        FakeProcesses processes = new FakeProcesses()
                .answer(REMOVAL, 1, "", "Cannot remove namespace file: Device or resource busy\nCommand failed -:2");
        CageNetwork network = create(dir, NO_CAGE, processes);
        CageException failure = assertThrows(CageException.class, network::close);
        assertEquals("network teardown of cage c1 was incomplete: delete the namespace: 'ip -force -batch -' failed "
                + "with exit code 1: Cannot remove namespace file: Device or resource busy (at 'ip netns delete "
                + "claude-cage-c1')", failure.getMessage());
        assertTrue(processes.commands().contains(List.of("nft", "delete", "table", "inet", "claude_cage_cgh0")),
                processes.commands().toString());
    }

    @Test
    void eachRemovalThatFailsIsNamedAndOneWhoseObjectIsGoneIsNoFailure(@TempDir Path dir) throws IOException {
        FakeProcesses processes = new FakeProcesses()
                .answer(REMOVAL, 1, "", "RTNETLINK answers: Operation not permitted\nCommand failed -:1\n"
                        + "Cannot remove namespace file \"/run/netns/claude-cage-c1\": No such file or directory\n"
                        + "Command failed -:2")
                .answer(List.of("nft", "delete"), 1, "", "Error: Could not process rule: Device or resource busy");
        CageNetwork network = create(dir, NO_CAGE, processes);
        CageException failure = assertThrows(CageException.class, network::close);
        String message = failure.getMessage();
        assertTrue(message.contains("delete the host's end of the link: 'ip -force -batch -' failed with exit code 1: "
                + "RTNETLINK answers: Operation not permitted (at 'ip link delete cgh0')"), message);
        assertTrue(message.contains("delete the host's firewall table: 'nft delete table inet claude_cage_cgh0' failed"),
                message);
        assertTrue(!message.contains("delete the namespace"), "a namespace gone already is no failure: " + message);
    }

    @Test
    void aRemovalBatchThatFailsWithoutNamingALineIsReportedWhole(@TempDir Path dir) throws IOException {
        FakeProcesses processes = new FakeProcesses().answer(REMOVAL, 255, "", "Option \"-force\" is unknown");
        CageNetwork network = create(dir, NO_CAGE, processes);
        CageException failure = assertThrows(CageException.class, network::close);
        assertEquals("network teardown of cage c1 was incomplete: delete the host's end of the link, then delete the "
                + "namespace: 'ip -force -batch -' failed with exit code 255: Option \"-force\" is unknown",
                failure.getMessage());
    }

    @Test
    void theHostsEndIsInPlaceWhileTheCagesEndIsStillBeingMade(@TempDir Path dir) throws Exception {
        FakeProcesses processes = new FakeProcesses();
        CountDownLatch cageTableMay = new CountDownLatch(1);
        AtomicBoolean heldBack = new AtomicBoolean();
        ProcessRunner runner = new ProcessRunner(false, builder -> {
            if (builder.command().contains("exec")) {
                try {
                    heldBack.set(cageTableMay.await(10, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return processes.start(builder);
        });
        Path listing = Files.writeString(dir.resolve("dev"), NO_CAGE);
        CageNetwork network = CageNetwork.begin("c1", SETTINGS, GatewayPorts.STANDARD, PROXY_ONLY, 0,
                dir.resolve("network.lock"), listing, runner);
        // begin returned with the cage's table held back: the host's end is up, the cage's end is not.
        indexOf(processes.started(), "addr add 10.213.0.1/30 dev cgh0\n"
                + "addr add fd63:6167:6500:0:0:0:0:1/64 dev cgh0 nodad\n"
                + "link set cgh0 up\n");
        assertFalse(processes.commands().contains(List.of("ip", "-n", "claude-cage-c1", "-batch", "-")),
                processes.commands().toString());
        cageTableMay.countDown();
        network.awaitCageEnd();
        assertTrue(heldBack.get(), "the cage's table waited for the release, not for the timeout");
        assertTrue(processes.commands().contains(List.of("ip", "-n", "claude-cage-c1", "-batch", "-")),
                processes.commands().toString());
        network.close();
        assertTrue(processes.commands().contains(REMOVAL), processes.commands().toString());
    }

    @Test
    void aFailureOfTheCagesEndIsThrownByItsAwaitAndEverythingIsTakenDown(@TempDir Path dir) {
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("ip", "-n"), 1, "", "RTNETLINK answers: Network is unreachable\nCommand failed -:5");
        CageException failure = assertThrows(CageException.class, () -> create(dir, NO_CAGE, processes));
        assertTrue(failure.getMessage().endsWith("(at 'ip -n claude-cage-c1 route add default via 10.213.0.1')"),
                failure.getMessage());
        List<List<String>> commands = processes.commands();
        assertEquals(Set.of(List.of("nft", "delete", "table", "inet", "claude_cage_cgh0"), REMOVAL),
                Set.copyOf(commands.subList(commands.size() - 2, commands.size())));
    }

    /** Where the command that was given {@code stdin} was started. */
    private static int indexOf(List<FakeProcesses.Started> started, String stdin) {
        for (int i = 0; i < started.size(); i++) {
            if (started.get(i).stdin().equals(stdin)) {
                return i;
            }
        }
        throw new AssertionError("no command was given " + stdin);
    }

    private static CageNetwork create(Path dir, String interfaces, FakeProcesses processes) throws IOException {
        Path listing = Files.writeString(dir.resolve("dev"), interfaces);
        return CageNetwork.create("c1", SETTINGS, GatewayPorts.STANDARD, PROXY_ONLY, 0, dir.resolve("network.lock"),
                listing, processes.runner());
    }
}
