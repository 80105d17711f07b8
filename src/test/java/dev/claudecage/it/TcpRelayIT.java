package dev.claudecage.it;

import dev.claudecage.host.Netns;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.testing.DataHost;
import dev.claudecage.testing.TestNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, non-HTTP egress by host:port, from inside a real filtered cage: bash's /dev/tcp (a client that knows
 * no proxy) connects to allowed names on a port other than 80 and 443, and the TCP relay on the gateway takes the
 * bytes to the test's echo servers, each on a test host of its own. Two entries share the port: the first keeps
 * it, the other is reached at the gateway port CLAUDE_CAGE_TCP_RELAYS names. A port and a host not allowed reach
 * nothing (a canary the test owns counts connections; the test itself connects to it first, the positive control
 * that it counts). Last, a transfer past egress_limit is cut and audited.
 */
class TcpRelayIT {

    private static final int PORT = 7007;
    private static final int OTHER_PORT = 7008;
    /** A port a program on the host holds at every address, as sshd holds 22. */
    private static final int HELD_PORT = 7009;
    /** The first port of the ones entries get when their own is taken (TcpRelays.OWN_PORTS_FROM). */
    private static final int SECOND_ENTRY_PORT = 40000;

    /**
     * The scripts' start: the cage's relays, and {@code talk NAME PORT TEXT}, one connection with the text there and
     * back (or "refused"). A write to a connection the relay closed fails with EPIPE rather than ending the script.
     */
    private static final String TALK = String.join("\n",
            "trap '' PIPE",
            "echo \"RELAYS=$CLAUDE_CAGE_TCP_RELAYS\"",
            "talk() { if exec 3<>/dev/tcp/$1/$2; then printf %s \"$3\" >&3; reply=; read -t 5 -N ${#3} reply <&3;"
                    + " echo \"$1:$2=[$reply]\"; exec 3>&-; else echo \"$1:$2 refused\"; fi; }");

    private static TestNetwork internet;
    private static TestNetwork.TestHost echoHost;
    private static TestNetwork.TestHost echo2Host;
    private static TestNetwork.TestHost canaryHost;
    private static DataHost echo;
    private static DataHost heldPortEcho;
    private static DataHost echo2;
    private static DataHost otherPortCanary;
    private static DataHost canary;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        internet = new TestNetwork("relay");
        echoHost = internet.addHost("echo");
        echo2Host = internet.addHost("echo2");
        canaryHost = internet.addHost("canary");
        echo = Netns.call(echoHost.namespace(), () -> DataHost.echo(echoHost.address4(), PORT));
        otherPortCanary = Netns.call(echoHost.namespace(), () -> DataHost.echo(echoHost.address4(), OTHER_PORT));
        heldPortEcho = Netns.call(echoHost.namespace(), () -> DataHost.echo(echoHost.address4(), HELD_PORT));
        echo2 = Netns.call(echo2Host.namespace(), () -> DataHost.echo(echo2Host.address4(), PORT));
        canary = Netns.call(canaryHost.namespace(), () -> DataHost.echo(canaryHost.address4(), PORT));
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {echo, echo2, otherPortCanary, heldPortEcho, canary, internet}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    @BeforeEach
    void clean() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers());
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
        assertEquals(List.of(), NetworkLeftovers.listExcept("relay"), "the cage left network state behind");
    }

    @Test
    void anAllowedHostPortIsRelayedAndNothingElseIsAndTheEgressLimitHolds() throws Exception {
        // The canaries count: the test's own connection is their first hit.
        try (Socket control = new Socket()) {
            control.connect(new InetSocketAddress(canaryHost.address4(), PORT), 5000);
        }
        try (Socket control = new Socket()) {
            control.connect(new InetSocketAddress(echoHost.address4(), OTHER_PORT), 5000);
        }
        assertEquals(1, awaitConnections(canary, 1));
        assertEquals(1, awaitConnections(otherPortCanary, 1));
        long echoBefore = echo.received();

        Path audit = dir.resolve("audit.jsonl");
        String script = String.join("\n",
                TALK,
                "talk echo.test " + PORT + " hello-relay",
                "talk echo2.test " + SECOND_ENTRY_PORT + " hello-second",
                "talk echo.test " + OTHER_PORT + " other-port 2>&1",
                "talk canary.test " + PORT + " not-allowed 2>&1",
                "talk " + canaryHost.address4() + " " + PORT + " by-address 2>&1",
                // Past the egress limit: 3 MB out, whatever comes back counted.
                "exec 4<>/dev/tcp/echo.test/" + PORT,
                "( echo \"BIG_BACK=$(wc -c <&4 2>/dev/null)\" ) & reader=$!",
                "head -c 3000000 /dev/zero >&4 2>/dev/null; echo \"BIG_WRITE_EXIT=$?\"",
                "wait $reader; exec 4>&-",
                "talk echo.test " + PORT + " after-cut 2>&1",
                "exit 0");
        CageHarness.Result result = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(),
                "--network", "filtered", "--egress-limit", "1m",
                "--allowed-host", "echo.test:" + PORT, "--allowed-host", "echo2.test:" + PORT,
                "--resolve", "echo.test=" + echoHost.address4(), "--resolve", "echo2.test=" + echo2Host.address4(),
                "--resolve", "canary.test=" + canaryHost.address4(),
                "--audit-log", audit.toString(), "--", "bash", "-c", script), "", Map.of(), Duration.ofMinutes(3));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.stderr());
        String out = result.stdout();

        assertTrue(out.contains("RELAYS=echo.test:" + PORT + "=" + PORT + " echo2.test:" + PORT + "=" + SECOND_ENTRY_PORT), out);
        assertTrue(out.contains("echo.test:" + PORT + "=[hello-relay]"), out);
        assertTrue(out.contains("echo2.test:" + SECOND_ENTRY_PORT + "=[hello-second]"), out);
        assertEquals("hello-second".length(), echo2.received(), "the second entry's bytes went to its own host");
        assertTrue(out.contains("echo.test:" + OTHER_PORT + " refused"), out);
        assertTrue(out.contains("canary.test:" + PORT + " refused"), out);
        assertTrue(out.contains(canaryHost.address4() + ":" + PORT + " refused"), out);
        assertEquals(1, canary.connections(), "nothing from the cage reached the canary host");
        assertEquals(1, otherPortCanary.connections(), "nothing from the cage reached a port of echo.test not allowed");

        long echoed = echo.received() - echoBefore;
        assertTrue(echoed <= 1 << 20, "past the limit: " + echoed + " bytes reached the echo server");
        assertTrue(out.contains("BIG_BACK="), out);
        assertTrue(out.contains("echo.test:" + PORT + "=[]"), "a cut-off cage's next relay connection is closed: " + out);

        List<AuditEvent> relayed = AuditLog.read(audit).stream().filter(event -> event.source().equals("relay")).toList();
        assertTrue(relayed.stream().anyMatch(event -> event.decision().equals(AuditEvent.ALLOWED)
                && "echo.test".equals(event.destination()) && Integer.valueOf(PORT).equals(event.port())
                && event.bytesSent() == "hello-relay".length() && event.bytesReceived() == "hello-relay".length()
                && event.reason().startsWith("relayed for ")), relayed.toString());
        assertTrue(relayed.stream().anyMatch(event -> event.decision().equals(AuditEvent.ALLOWED)
                && "echo2.test".equals(event.destination()) && Integer.valueOf(PORT).equals(event.port())), relayed.toString());
        assertTrue(relayed.stream().anyMatch(event -> event.decision().equals(AuditEvent.CUT_OFF)
                && "echo.test".equals(event.destination())), relayed.toString());
        assertTrue(relayed.stream().anyMatch(event -> event.decision().equals(AuditEvent.DENIED)
                && event.reason().contains("this cage is cut off")), relayed.toString());
        long counted = relayed.stream().filter(event -> event.bytesSent() != null)
                .mapToLong(event -> event.bytesSent() + event.bytesReceived()).sum();
        // Not a byte more than the limit. Fewer only by what the cut-off stopped in flight: the cut-off closes the
        // connection's sockets, which ends the other direction's write of its last grant (one relay buffer, 256 KiB,
        // at most) partway; the lines count what left, the budget what was granted.
        assertTrue(counted <= 1 << 20, "the relay's lines account for no more than the egress limit: " + counted);
        assertTrue(counted > (1 << 20) - 256 * 1024, "the relay's lines account for the egress limit but for one "
                + "buffer in flight at the cut-off: " + counted);
    }

    /**
     * A program on the host listening on every address holds the same port on the cage's gateway address (sshd on
     * 0.0.0.0:22 and github.com:22). The relay cannot listen there; before, the cage did not start at all. Now the
     * entry moves to a port of its own, the firewall opens that one and not the held one, and the host program, a
     * canary here, hears nothing from the cage (the test's own connection to it first: the positive control).
     */
    @Test
    void anEntryOnAPortAHostProgramHoldsMovesAndTheProgramHearsNothing() throws Exception {
        try (DataHost hostProgram = DataHost.echo("0.0.0.0", HELD_PORT)) {
            try (Socket control = new Socket()) {
                control.connect(new InetSocketAddress("127.0.0.1", HELD_PORT), 5000);
            }
            assertEquals(1, awaitConnections(hostProgram, 1));
            Path audit = dir.resolve("audit.jsonl");
            String script = String.join("\n",
                    TALK,
                    "talk echo.test " + SECOND_ENTRY_PORT + " moved",
                    "talk echo.test " + HELD_PORT + " held 2>&1",
                    "exit 0");
            CageHarness.Result result = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(),
                    "--network", "filtered", "--allowed-host", "echo.test:" + HELD_PORT,
                    "--resolve", "echo.test=" + echoHost.address4(),
                    "--audit-log", audit.toString(), "--", "bash", "-c", script), "", Map.of(), Duration.ofMinutes(3));
            System.out.println(result);
            assertEquals(0, result.exitCode(), result.stderr());
            String out = result.stdout();
            assertTrue(out.contains("RELAYS=echo.test:" + HELD_PORT + "=" + SECOND_ENTRY_PORT + "\n"), out);
            assertTrue(out.contains("echo.test:" + SECOND_ENTRY_PORT + "=[moved]"), out);
            assertTrue(out.contains("echo.test:" + HELD_PORT + " refused"), out);
            assertEquals("moved".length(), heldPortEcho.received(), "the moved relay reached the entry's own host");
            assertEquals(1, hostProgram.connections(), "nothing from the cage reached the host's program");
        }
    }

    private static int awaitConnections(DataHost host, int expected) throws InterruptedException {
        for (int i = 0; i < 100 && host.connections() < expected; i++) {
            Thread.sleep(20);
        }
        return host.connections();
    }
}
