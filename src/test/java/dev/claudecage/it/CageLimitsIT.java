package dev.claudecage.it;

import dev.claudecage.host.Netns;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.testing.DataHost;
import dev.claudecage.testing.RecordingDns;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.testing.mockapi.MockAnthropicApi;
import dev.claudecage.testing.mockapi.RecordedRequest;
import dev.claudecage.testing.mockapi.Script;
import dev.claudecage.testing.mockapi.Turn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 24, from inside real cages: the limits around the proxy, the API gateway and the audit log, each
 * attacked as the attack on them was run ({@code abuse-probe.pl}, perl in the cage), on the test's own small
 * internet: the mock API, a data sink for CONNECT tunnels, and a DNS server that records every name it is
 * asked. Each refusal is shown on the far side too (the mock API, the sink or the DNS server heard nothing),
 * and each test has a positive control: the same request, within the limit, gets through.
 */
class CageLimitsIT {

    private static final String REAL_KEY = "sk-ant-api03-realkey-" + Long.toHexString(System.nanoTime());
    private static final int API_PORT = 8443;
    private static final int DATA_PORT = 9000;
    private static final String DATA = "data.test:" + DATA_PORT;

    private static TestNetwork internet;
    private static TestNetwork.TestHost apiHost;
    private static TestNetwork.TestHost dataHost;
    private static TestNetwork.TestHost dnsHost;
    private static MockAnthropicApi api;
    private static DataHost sink;
    private static RecordingDns dns;
    private static String probe;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        try (InputStream in = CageLimitsIT.class.getResourceAsStream("abuse-probe.pl")) {
            probe = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        internet = new TestNetwork("limit");
        apiHost = internet.addHost("api");
        dataHost = internet.addHost("data");
        dnsHost = internet.addHost("dns");
        api = Netns.call(apiHost.namespace(), () -> MockAnthropicApi.builder()
                .bind(new InetSocketAddress(apiHost.address4(), API_PORT))
                .script(Script.of(new Turn.Text("hello from the mock"))).start());
        sink = Netns.call(dataHost.namespace(), () -> DataHost.sink(dataHost.address4(), DATA_PORT));
        dns = Netns.call(dnsHost.namespace(), () -> RecordingDns.start(dnsHost.address4(), 53));
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {api, sink, dns, internet}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    @BeforeEach
    void clean() throws Exception {
        dns.takeNames();
        assertEquals(List.of(), CageHarness.leftovers());
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
        assertEquals(List.of(), NetworkLeftovers.listExcept("limit"), "the cage left network state behind");
    }

    /**
     * Runs {@code script} (bash, with the probe as {@code probe ARGS}, or {@code perl -e "$PROBE" ARGS} for a job
     * whose $! must be perl's own) in a filtered cage whose gateway holds the key.
     */
    private CageHarness.Result cage(Path audit, List<String> extra, String script) {
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "filtered",
                "--api-upstream", "http://" + apiHost.address4() + ":" + API_PORT,
                "--resolve", "data.test=" + dataHost.address4(), "--allowed-host", DATA,
                "--dns", dnsHost.address4(), "--audit-log", audit.toString(), "--env", "PROBE=" + probe));
        args.addAll(extra);
        args.addAll(List.of("--", "bash", "-c", "probe() { perl -e \"$PROBE\" \"$@\"; }\n" + script + "\nexit 0"));
        CageHarness.Result result = CageHarness.launch(args, "", Map.of("ANTHROPIC_API_KEY", REAL_KEY),
                Duration.ofMinutes(3));
        System.out.println(result.toString().length() > 20_000 ? result.toString().substring(0, 20_000) : result);
        assertEquals(0, result.exitCode(), result.stderr());
        return result;
    }

    private static List<String> targetsSeenByTheApi() {
        return api.requests().stream().map(RecordedRequest::target).toList();
    }

    private static boolean apiSaw(String marker) {
        return targetsSeenByTheApi().stream().anyMatch(target -> target.contains(marker));
    }

    /**
     * The gateway accepted 200 idle connections: max_connections covered the proxy only. Now one cap counts the
     * cage's connections to both. Six held open to the gateway, and both the gateway and the proxy refuse the
     * next with 429, which never reaches the API; once they are closed, the same requests pass.
     */
    @Test
    void attack24TheGatewaysConnectionsCountAgainstTheCagesOneCapWithTheProxys() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of("--max-connections", "6"), """
                perl -e "$PROBE" hold 6 8 idle & holder=$!
                sleep 2
                probe request /v1/messages?over=cap 300
                probe connect %s 10
                kill $holder; wait $holder
                sleep 1
                probe request /v1/messages?after=release 300
                probe connect %s 10
                """.formatted(DATA, DATA));

        assertTrue(result.stdout().contains("REQUEST /v1/messages?over=cap 429"), result.stdout());
        assertTrue(result.stdout().contains("CONNECT " + DATA + " 429 pushed 0"), result.stdout());
        assertTrue(result.stdout().contains("REQUEST /v1/messages?after=release 200"), "control: " + result.stdout());
        assertTrue(result.stdout().contains("CONNECT " + DATA + " 200 pushed 10"), "control: " + result.stdout());
        assertFalse(apiSaw("over=cap"), targetsSeenByTheApi().toString());
        assertTrue(apiSaw("after=release"), targetsSeenByTheApi().toString());
        List<AuditEvent> events = AuditLog.read(audit);
        assertTrue(events.stream().anyMatch(event -> event.source().equals("gateway") && event.reason().equals(
                "POST /v1/messages?over=cap 429: the connection limit of 6 open connections is reached")), events.toString());
    }

    /**
     * After the proxy had cut the cage off at its egress limit, a 2 MiB POST through the gateway still went
     * upstream. The budget is the cage's: once the proxy has spent it, the gateway sends nothing more. The
     * control: the same gateway forwarded a request before.
     */
    @Test
    void attack24AfterTheProxyCutTheCageOffTheGatewaySendsNothingMore() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        long sinkBefore = sink.received();
        CageHarness.Result result = cage(audit, List.of("--egress-limit", "1m"), """
                probe request /v1/messages?before=cutoff 2000
                probe connect %s 1500000
                probe request /v1/messages?after=cutoff 2000000
                probe connect %s 10
                """.formatted(DATA, DATA));

        assertTrue(result.stdout().contains("REQUEST /v1/messages?before=cutoff 200"), "control: " + result.stdout());
        assertTrue(result.stdout().lines().anyMatch(line -> line.startsWith("REQUEST /v1/messages?after=cutoff ")
                && !line.contains(" 200 ")), result.stdout());
        assertTrue(result.stdout().contains("CONNECT " + DATA + " 403 pushed 0"), result.stdout());
        assertTrue(apiSaw("before=cutoff"), targetsSeenByTheApi().toString());
        assertFalse(apiSaw("after=cutoff"), "the POST after the cut-off reached the API: " + targetsSeenByTheApi());
        assertTrue(sink.received() - sinkBefore <= 1 << 20, "the sink got " + (sink.received() - sinkBefore));
        List<AuditEvent> events = AuditLog.read(audit);
        assertTrue(events.stream().anyMatch(event -> event.source().equals("proxy")
                && event.decision().equals(AuditEvent.CUT_OFF)), events.toString());
        assertTrue(events.stream().anyMatch(event -> event.source().equals("gateway")
                && event.decision().equals(AuditEvent.DENIED) && event.reason().contains("this cage is cut off")),
                events.toString());
    }

    /** The other way round: a body through the gateway that passes the budget is cut, and cuts off the proxy too. */
    @Test
    void aBodyThroughTheGatewayPastTheBudgetIsCutAndCutsTheProxyOffToo() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of("--egress-limit", "1m"), """
                probe connect %s 1000
                probe request /v1/messages?big=1 1500000
                probe connect %s 10
                """.formatted(DATA, DATA));

        assertTrue(result.stdout().contains("CONNECT " + DATA + " 200 pushed 1000"), "control: " + result.stdout());
        assertTrue(result.stdout().lines().anyMatch(line -> line.startsWith("REQUEST /v1/messages?big=1 ")
                && !line.contains(" 200 ")), result.stdout());
        assertTrue(result.stdout().contains("CONNECT " + DATA + " 403 pushed 0"), result.stdout());
        assertFalse(apiSaw("big=1"), "a body past the budget reached the API whole: " + targetsSeenByTheApi());
        assertTrue(AuditLog.read(audit).stream().anyMatch(event -> event.source().equals("gateway")
                && event.decision().equals(AuditEvent.CUT_OFF)), Files.readString(audit));
    }

    /**
     * 70 partial request heads blocked every request through the gateway for 25 s. A head must be complete
     * within 10 s: four half heads fill a cap of four, the next request gets 429 at once, the gateway closes
     * the four after the head timeout and audits each, and then a request passes.
     */
    @Test
    void attack24HalfHeadsAreClosedAfterTheHeadTimeoutAndTheirSlotsFreed() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of("--max-connections", "4"), """
                perl -e "$PROBE" hold 4 20 partial & holder=$!
                sleep 2
                probe request /v1/messages?during=slowloris 300
                wait $holder
                probe request /v1/messages?after=slowloris 300
                """);

        assertTrue(result.stdout().contains("REQUEST /v1/messages?during=slowloris 429"), result.stdout());
        List<String> closed = result.stdout().lines().filter(line -> line.startsWith("closed by the gateway after ")).toList();
        assertEquals(4, closed.size(), result.stdout());
        for (String line : closed) {
            int seconds = Integer.parseInt(line.replaceAll("\\D+", ""));
            assertTrue(seconds >= 8 && seconds <= 13, line);
        }
        assertTrue(result.stdout().contains("held to the end: 0"), result.stdout());
        assertTrue(result.stdout().contains("REQUEST /v1/messages?after=slowloris 200"), "control: " + result.stdout());
        assertEquals(4, AuditLog.read(audit).stream().filter(event -> event.source().equals("gateway")
                && "no complete request head within 10 s".equals(event.reason())).count(), Files.readString(audit));
    }

    /**
     * Requests whose client had given up were sent upstream later, with the real key, when a handler came free.
     * While half heads fill the cap, three requests are sent and abandoned at once; after the half heads are gone,
     * the API has seen none of them. The control: a request that waits for its answer is sent.
     */
    @Test
    void attack24AnAbandonedRequestIsNeverSentUpstreamLater() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of("--max-connections", "4"), """
                perl -e "$PROBE" hold 4 12 partial & holder=$!
                sleep 2
                for i in 1 2 3; do probe request /v1/messages?abandoned=$i 300 leave; done
                wait $holder
                sleep 2
                probe request /v1/messages?waited=1 300
                """);

        assertEquals(3, result.stdout().lines().filter(line -> line.startsWith("left /v1/messages?abandoned=")).count(),
                result.stdout());
        assertTrue(result.stdout().contains("REQUEST /v1/messages?waited=1 200"), "control: " + result.stdout());
        assertFalse(apiSaw("abandoned="), "an abandoned request reached the API: " + targetsSeenByTheApi());
        assertTrue(apiSaw("waited=1"), targetsSeenByTheApi().toString());
    }

    /**
     * 200 CONNECTs with an 8,100-byte host name wrote 19.5 MB to the audit log, and TLS hellos with a 16 KB SNI
     * 192 KB a line: the name went into destination and reason whole, escaped. Each is now cut to a bounded
     * length with the whole name's length and hash.
     */
    @Test
    void attack24LongNamesNoLongerAmplifyIntoTheAuditLog() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of(), """
                probe flood 200 8100
                probe tls 16000
                """);

        assertTrue(result.stdout().contains("FLOOD 403:200"), result.stdout());
        assertTrue(result.stdout().contains("TLS 21 3 3 0 2 2 49"), result.stdout());
        List<String> lines = Files.readAllLines(audit);
        int longest = lines.stream().mapToInt(String::length).max().orElse(0);
        assertTrue(longest < 2_000, "the longest audit line has " + longest + " characters");
        assertTrue(Files.size(audit) < 400_000, "the audit log has " + Files.size(audit) + " bytes for 1.6 MB sent");
        List<AuditEvent> events = AuditLog.read(audit);
        assertTrue(events.stream().anyMatch(event -> event.destination() != null
                && event.destination().contains("...[8105 characters, sha256:")), events.get(0).toString());
        assertTrue(events.stream().anyMatch(event -> event.destination() != null
                && event.destination().startsWith("bbbb") && event.destination().contains("...[16000 characters, sha256:")),
                "the TLS hello's SNI is audited, cut");
    }

    /**
     * The DNS stub throttled its audit lines, the proxy did not: every refused CONNECT was a line. A flood of
     * 3,000 is now written as the burst, the rate, and summary lines that account for every one of them.
     */
    @Test
    void aFloodOfRefusedConnectsIsRateLimitedInTheAuditLogAndEveryOneAccountedFor() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of(), "probe flood 3000 20");

        assertTrue(result.stdout().contains("FLOOD 403:3000"), result.stdout());
        List<AuditEvent> proxy = AuditLog.read(audit).stream().filter(event -> event.source().equals("proxy")).toList();
        long accounted = proxy.stream().mapToLong(event -> event.destination() != null ? 1
                : Long.parseLong(event.reason().substring(0, event.reason().indexOf(' ')))).sum();
        assertEquals(3000, accounted, "every refusal is accounted for");
        long seconds = Duration.between(proxy.get(0).time(), proxy.get(proxy.size() - 1).time()).toSeconds() + 1;
        long allowedLines = 1000 + 100 * seconds + 2 * seconds;
        assertTrue(proxy.size() < 3000 && proxy.size() <= allowedLines, proxy.size() + " lines in " + seconds + " s");
        assertTrue(proxy.stream().anyMatch(event -> event.destination() == null && event.reason().contains("audit rate limit")));
    }

    /** The cage could fill the host's disk through its audit log: a flood of long names leaves it under its cap. */
    @Test
    void aFloodOfLongNamesLeavesTheAuditFileUnderItsCap() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of("--audit-log-limit", "256k"), "probe flood 1500 8100");

        assertTrue(result.stdout().contains("FLOOD 403:1500"), result.stdout());
        assertTrue(Files.size(audit) <= 256 * 1024, "the audit log has " + Files.size(audit) + " bytes");
        List<AuditEvent> events = AuditLog.read(audit);
        AuditEvent last = events.get(events.size() - 1);
        assertEquals(AuditLog.FULL, last.decision(), last.toString());
        assertTrue(last.reason().contains("size cap of 256k"), last.reason());
        assertTrue(result.stderr().contains("reached its size cap of 256k; events counted but not written"), result.stderr());
    }

    /**
     * With {@code *.wild.test} allowed, the proxy looked up any name under it the cage asked for, which carries
     * the name to the zone's servers. A name with more than 64 characters under the wildcard is refused without
     * a lookup: the test's DNS server never hears it. The control: a short name under it is looked up.
     */
    @Test
    void attack24ALongNameUnderAWildcardIsRefusedWithoutALookup() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        String longSuffix = "." + "a".repeat(40) + "." + "a".repeat(30) + ".wild.test";
        CageHarness.Result result = cage(audit, List.of("--allowed-host", "*.wild.test"),
                "probe names " + longSuffix + " 1\nprobe names .wild.test 1");

        assertTrue(result.stdout().contains("NAME n1" + longSuffix + " 403"), result.stdout());
        assertTrue(result.stdout().contains("NAME n1.wild.test 502"), "control, looked up (NXDOMAIN): " + result.stdout());
        Set<String> asked = new TreeSet<>(dns.takeNames());
        assertEquals(Set.of("n1.wild.test"), asked, "the DNS server heard: " + asked);
        assertTrue(AuditLog.read(audit).stream().anyMatch(event -> event.reason() != null
                && event.reason().contains("characters under *.wild.test, more than 64")), Files.readString(audit));
    }

    /** Past wildcard_names_per_minute new names a minute under wildcard entries, names are refused without a lookup. */
    @Test
    void newNamesUnderAWildcardAreLookedUpOnlyWithinTheBudget() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = cage(audit, List.of("--allowed-host", "*.wild.test", "--wildcard-names-per-minute",
                "5"), "probe names .wild.test 8\nprobe names .wild.test 2");

        List<String> statuses = result.stdout().lines().filter(line -> line.startsWith("NAME ")).toList();
        assertEquals(List.of("NAME n1.wild.test 502", "NAME n2.wild.test 502", "NAME n3.wild.test 502",
                "NAME n4.wild.test 502", "NAME n5.wild.test 502", "NAME n6.wild.test 403", "NAME n7.wild.test 403",
                "NAME n8.wild.test 403", "NAME n1.wild.test 502", "NAME n2.wild.test 502"), statuses);
        assertEquals(Set.of("n1.wild.test", "n2.wild.test", "n3.wild.test", "n4.wild.test", "n5.wild.test"),
                new TreeSet<>(dns.takeNames()));
        assertEquals(3, AuditLog.read(audit).stream().filter(event -> event.reason() != null
                && event.reason().contains("more than 5 new names under wildcard entries within a minute")).count());
    }
}
