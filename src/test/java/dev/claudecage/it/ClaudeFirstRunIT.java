package dev.claudecage.it;

import dev.claudecage.host.Netns;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.testing.mockapi.MockAnthropicApi;
import dev.claudecage.testing.mockapi.RecordedRequest;
import dev.claudecage.testing.mockapi.Script;
import dev.claudecage.verify.Canary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * What a user does first: {@code claude-cage start} with a key on the host, and talk to the real
 * Claude Code in its terminal. Its interactive start must go straight to the prompt, with no
 * question in between, on a fresh session and again after a stop and a start, with the direct
 * route to the API host closed: Claude Code's start-up calls to api.anthropic.com are refused (the
 * name is pinned to the test's canary, which sees nothing), and only the gateway reaches the mock.
 */
class ClaudeFirstRunIT {

    private static final String SESSION = "it-first-run";
    private static final String REAL_KEY = "sk-ant-api03-first-run-" + Long.toHexString(System.nanoTime());
    private static final String ANSWER = "MOCKANSWER" + Long.toString(System.nanoTime() % 1_000_000);
    private static final int API_PORT = 8443;
    private static final String HOST_USER = "4242";
    private static final int ROWS = 40;
    private static final int COLUMNS = 120;
    private static final Duration CLAUDE_STARTS = Duration.ofSeconds(90);
    private static final Duration CLAUDE_ANSWERS = Duration.ofSeconds(60);
    /** Claude Code's first-run screens and questions, as 2.1.332 words them; none may show. */
    private static final List<String> FIRST_RUN_SCREENS = List.of(
            "Detected a custom API key", "Do you want to use this API key", "trust this folder",
            "Unable to connect to Anthropic services", "Select login method", "Choose the text style",
            "Checking connectivity");

    private static TestNetwork internet;
    private static TestNetwork.TestHost apiHost;
    private static TestNetwork.TestHost canaryHost;
    private static Canary canary;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        CageHarness.requireCliImage();
        CageHarness.destroyTestSessions();
        internet = new TestNetwork("first");
        apiHost = internet.addHost("api");
        canaryHost = internet.addHost("canary");
        canary = Netns.call(canaryHost.namespace(), () -> Canary.open(
                List.of(canaryHost.address4(), canaryHost.address6()), List.of(80, 443), List.of(53)));
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        try {
            CageHarness.destroyTestSessions();
        } finally {
            if (canary != null) {
                canary.close();
            }
            if (internet != null) {
                internet.close();
            }
        }
        assertEquals(List.of(), CageHarness.sessionLeftovers(), "the session left something behind");
    }

    private Path workspace() throws IOException {
        Path workspace = Files.createDirectories(dir.resolve("workspace"));
        Files.setAttribute(workspace, "unix:uid", Integer.parseInt(HOST_USER));
        Files.setAttribute(workspace, "unix:gid", Integer.parseInt(HOST_USER));
        return workspace;
    }

    @Test
    void theInteractiveFirstRunGoesStraightToThePromptAndAgainAfterStopAndStart() throws Exception {
        Path workspace = workspace();
        Map<String, String> env = Map.of("ANTHROPIC_API_KEY", REAL_KEY, "SUDO_UID", HOST_USER, "SUDO_GID", HOST_USER);
        try (MockAnthropicApi api = Netns.call(apiHost.namespace(), () -> MockAnthropicApi.builder()
                .bind(new InetSocketAddress(apiHost.address4(), API_PORT)).script(new Script(List.of(), ANSWER)).start())) {
            // As the README says, plus the test's own upstream. api.anthropic.com is pinned to the canary
            // and left off the allowlist: the direct route to the API host is closed, as it is when the
            // gateway holds the key, and if it ever opened, the canary, not the internet, would see it.
            List<String> create = List.of("start", "--name", SESSION, "--mount", workspace + ":/workspace",
                    "--api-upstream", "http://" + apiHost.address4() + ":" + API_PORT,
                    "--allowed-host", "canary.test", "--resolve", "api.anthropic.com=" + canaryHost.address4());
            String first = converse(create, env, "say the word");
            assertEquals(0, cage("stop", SESSION).exitCode());
            int before = api.requests().size();
            String second = converse(List.of("start", "--name", SESSION), env, "say it again");
            assertTrue(api.requests().size() > before, "the second run sent nothing to the mock");
            for (String run : List.of(first, second)) {
                assertTrue(run.contains(visible("Claude Code v2.1.332")), "the text of the screen is searched: " + run);
                for (String screen : FIRST_RUN_SCREENS) {
                    assertFalse(run.contains(visible(screen)), "Claude Code showed '" + screen + "':\n" + run);
                }
            }

            List<RecordedRequest> requests = api.requests();
            assertTrue(requests.stream().anyMatch(request -> request.body().contains("say the word")), "first prompt");
            assertTrue(requests.stream().anyMatch(request -> request.body().contains("say it again")), "second prompt");
            assertTrue(requests.stream().allMatch(request -> request.key().orElse("").equals(REAL_KEY)),
                    "every request reached the mock with the real key, added by the gateway: " + api.keysSeen());

            // The cage (still running: the terminal detached) never held the key: not in its processes'
            // environment, not in its home, not in /tmp.
            CageHarness.Result inside = cage("shell", SESSION, "--", "sh", "-c",
                    "cat /proc/[0-9]*/environ | tr '\\0' '\\n' | grep ^ANTHROPIC_; grep -rlF sk-ant-api03 ~ /tmp; echo searched");
            assertTrue(inside.stdout().contains("ANTHROPIC_API_KEY=sk-ant-cage-"), inside.toString());
            assertFalse(inside.stdout().contains(REAL_KEY) || inside.stdout().contains("sk-ant-api03"), inside.toString());
            assertTrue(inside.stdout().contains("searched"), inside.toString());
            assertFalse(anyFileHolds(CageHarness.SESSION_DATA.resolve(SESSION).resolve("home"), REAL_KEY),
                    "the persisted home holds the real key");
        }

        // Only the gateway got anything out; whatever Claude Code tried past it (the plugin marketplace,
        // say) was refused, and the canary standing in for api.anthropic.com saw nothing.
        List<AuditEvent> events = AuditLog.read(CageHarness.SESSION_DATA.resolve(SESSION).resolve("logs/audit.jsonl"));
        events.forEach(System.out::println);
        assertTrue(events.stream().anyMatch(event -> event.source().equals("gateway")), events.toString());
        assertTrue(events.stream().filter(event -> event.decision().equals(AuditEvent.ALLOWED))
                .allMatch(event -> event.source().equals("gateway")), "something besides the gateway got out: " + events);
        assertEquals(List.of(), canary.takeHits(), "the direct route to the API host was open");
        assertEquals(0, cage("destroy", SESSION).exitCode());
    }

    /**
     * Starts the session attached, on a terminal of its own, waits for Claude Code's prompt, types
     * {@code prompt} and Enter, waits for the mock's answer, and detaches; returns the text the
     * terminal showed (see {@link #visible}).
     */
    private static String converse(List<String> start, Map<String, String> env, String prompt) throws Exception {
        try (CageHarness.Terminal terminal = CageHarness.terminal(start, ROWS, COLUMNS, env)) {
            // The input line's hint, under the prompt, once Claude Code takes keys.
            int ready = awaitVisible(terminal, "shift+tab", 0, CLAUDE_STARTS);
            Thread.sleep(1000);
            terminal.type(prompt);
            int typed = awaitVisible(terminal, prompt, ready, Duration.ofSeconds(10));
            // Apart from the text: typed at once, the Enter would be taken as part of a paste.
            Thread.sleep(500);
            terminal.type("\r");
            awaitVisible(terminal, ANSWER, typed, CLAUDE_ANSWERS);
            terminal.type("\u0010\u0011");
            terminal.await("[detached from " + SESSION, Duration.ofSeconds(20));
            assertEquals(0, terminal.awaitExit(Duration.ofSeconds(20)), terminal.screen());
            return visible(terminal.screen());
        }
    }

    /**
     * What a terminal showed, as text to search: without escape sequences, and without white
     * space, which a full-screen program draws as cursor moves as often as as spaces.
     */
    static String visible(String raw) {
        return raw.replaceAll("\u001b\\[[0-?]*[ -/]*[@-~]", "")
                .replaceAll("\u001b\\][^\u0007\u001b]*(\u0007|\u001b\\\\)", "")
                .replaceAll("\u001b[ -/]*[0-~]", "")
                .replaceAll("\\s+", "");
    }

    /** Waits until the visible text, past {@code from}, shows {@code text} (its white space aside); returns where. */
    private static int awaitVisible(CageHarness.Terminal terminal, String text, int from, Duration timeout)
            throws InterruptedException {
        String wanted = text.replaceAll("\\s+", "");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            int at = visible(terminal.screen()).indexOf(wanted, from);
            if (at >= 0) {
                return at + wanted.length();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the terminal did not show '" + text + "' within " + timeout + "; it shows:\n"
                + terminal.screen());
    }

    private static boolean anyFileHolds(Path root, String text) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1).contains(text)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void aTmpfsHomeStartsWithTheSameSettingsCopiedFromTheHostsSeedByRunc() throws Exception {
        assertTmpfsHomeHasTheSettings(runInTmpfsHome("runc"), "runc");
    }

    @Test
    void aTmpfsHomeStartsWithTheSameSettingsCopiedFromTheHostsSeedByCrun() throws Exception {
        CageHarness.Result run = runInTmpfsHome("crun");
        assumeFalse(run.stderr().contains("crun cannot run cages on this host"),
                "crun cannot run cages on this host: " + run.stderr().strip());
        assertTmpfsHomeHasTheSettings(run, "crun");
    }

    /** A one-shot run with {@code runtime}, whose home is a tmpfs, showing what its home holds. */
    private CageHarness.Result runInTmpfsHome(String runtime) {
        String check = "cat ~/.claude.json; stat -c 'home %U %a' ~; stat -c 'file %U %a' ~/.claude.json;"
                + " touch ~/written && echo home-writable; echo key=$ANTHROPIC_API_KEY;"
                + " env | grep -E '^(DISABLE_TELEMETRY|CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC)='";
        return CageHarness.launch(List.of("run", "--runtime", runtime, "--api-upstream",
                        "http://" + apiHost.address4() + ":" + API_PORT, "--allowed-host", "canary.test",
                        "--audit-log", dir.resolve("audit-" + runtime + ".jsonl").toString(), "--", "sh", "-c", check),
                "", Map.of("ANTHROPIC_API_KEY", REAL_KEY), Duration.ofMinutes(2));
    }

    private static void assertTmpfsHomeHasTheSettings(CageHarness.Result run, String runtime) throws IOException {
        assertEquals(0, run.exitCode(), runtime + ": " + run);
        String out = run.stdout();
        String key = out.replaceAll("(?s).*key=(sk-ant-cage-[A-Za-z0-9_-]{32}).*", "$1");
        assertTrue(out.contains("\"hasCompletedOnboarding\" : true") && out.contains("\"/workspace\" : {")
                && out.contains("\"" + key.substring(key.length() - 20) + "\""), runtime + ": " + out);
        assertTrue(out.contains("home claude 700") && out.contains("file claude 600") && out.contains("home-writable"),
                runtime + ": " + out);
        assertTrue(out.contains("DISABLE_TELEMETRY=1") && out.contains("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"),
                runtime + ": " + out);
        assertEquals(List.of(), CageHarness.leftovers().stream().filter(item -> item.contains("/run-")).toList(),
                runtime + ": the run left something behind");
    }

    @Test
    void positiveControlTheCanarySeesADirectCallWhenTheRouteIsOpen() throws Exception {
        // The same pin with api.anthropic.com allowed (and no key, so no gateway that would close the
        // route to its upstream): a direct call reaches the canary, so the test above would see
        // Claude Code's start-up calls if the route were open.
        CageHarness.Result run = CageHarness.launch(List.of("run", "--allowed-host", "api.anthropic.com",
                        "--resolve", "api.anthropic.com=" + canaryHost.address4(), "--audit-log",
                        dir.resolve("audit.jsonl").toString(), "--", "curl", "-sk", "-m", "5", "https://api.anthropic.com/"),
                "", Map.of("ANTHROPIC_API_KEY", ""), Duration.ofMinutes(2));
        System.out.println(run);
        Thread.sleep(500);
        List<String> hits = new ArrayList<>(canary.takeHits());
        assertFalse(hits.isEmpty(), "the canary saw no direct call: " + run);
    }
}
