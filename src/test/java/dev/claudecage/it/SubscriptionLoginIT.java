package dev.claudecage.it;

import dev.claudecage.host.Netns;
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

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Claude subscription login instead of an API key: the host holds the OAuth token (in
 * CLAUDE_CODE_OAUTH_TOKEN, or the invoking user's ~/.claude/.credentials.json), the API gateway adds
 * it to the cage's requests as {@code Authorization: Bearer}, and the cage holds only the
 * placeholder, in CLAUDE_CODE_OAUTH_TOKEN. Each test looks for the token in every file, environment
 * and process of the cage, and checks that Anthropic is reached only through the gateway.
 */
class SubscriptionLoginIT {

    private static final String TOKEN_PREFIX = "sk-ant-oat01-";
    private static final String REAL_TOKEN = TOKEN_PREFIX + "it-subscription-" + Long.toHexString(System.nanoTime());
    private static final int API_PORT = 8443;

    private static TestNetwork internet;
    private static TestNetwork.TestHost apiHost;
    private static MockAnthropicApi api;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        internet = new TestNetwork("oauth");
        apiHost = internet.addHost("api");
        api = Netns.call(apiHost.namespace(), () -> MockAnthropicApi.builder()
                .bind(new InetSocketAddress(apiHost.address4(), API_PORT))
                .script(Script.of(new Turn.Text("hello from the mock"))).start());
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        if (api != null) {
            api.close();
        }
        if (internet != null) {
            internet.close();
        }
    }

    @BeforeEach
    void clean() throws Exception {
        api.takeRequests();
        assertEquals(List.of(), CageHarness.leftovers());
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
        assertEquals(List.of(), NetworkLeftovers.listExcept("oauth"), "the cage left network state behind");
    }

    private static final String BODY = "{\"model\":\"claude-x\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    /**
     * As Claude Code does with CLAUDE_CODE_OAUTH_TOKEN: the token as a bearer to ANTHROPIC_BASE_URL. Then what
     * the cage holds, and the search for the token in its files, environments and command lines.
     */
    private static final String SCRIPT = "gw=${ANTHROPIC_BASE_URL#http://}; host=${gw%:*}; port=${gw##*:}\n"
            + "exec 3<>/dev/tcp/$host/$port\n"
            + "printf 'POST /v1/messages HTTP/1.1\\r\\nHost: api\\r\\nAuthorization: Bearer %s\\r\\n"
            + "content-type: application/json\\r\\nanthropic-version: 2023-06-01\\r\\ncontent-length: " + BODY.length()
            + "\\r\\nConnection: close\\r\\n\\r\\n%s' \"$CLAUDE_CODE_OAUTH_TOKEN\" '" + BODY + "' >&3\n"
            + "timeout 10 cat <&3\n"
            + "echo; echo \"placeholder=$CLAUDE_CODE_OAUTH_TOKEN apikey=${ANTHROPIC_API_KEY:-unset}\"\n"
            // The pattern is put together here, and handed to grep through a pipe, so that no command line holds it.
            + "t=sk-ant-o; grep -rlF -f <(echo \"${t}at01-\") /proc/[0-9]*/environ /proc/[0-9]*/cmdline /etc /home /tmp /run"
            + " 2>/dev/null | sed 's/^/FOUND /'\n"
            + "p=${HTTPS_PROXY#http://}; exec 4<>/dev/tcp/${p%:*}/${p##*:}"
            + " && printf 'CONNECT api.anthropic.com:443 HTTP/1.1\\r\\nHost: api.anthropic.com:443\\r\\n\\r\\n' >&4"
            + " && timeout 10 head -1 <&4\n"
            + "exit 0";

    private List<String> filtered(String script) {
        return new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "filtered",
                "--api-upstream", "http://" + apiHost.address4() + ":" + API_PORT,
                "--audit-log", dir.resolve("audit.jsonl").toString(), "--", "bash", "-c", script));
    }

    private static Map<String, String> noApiKey(Map<String, String> more) {
        Map<String, String> env = new HashMap<>(Map.of("ANTHROPIC_API_KEY", "", "CLAUDE_CODE_OAUTH_TOKEN", ""));
        env.putAll(more);
        return env;
    }

    private void assertTheGatewayHeldTheToken(CageHarness.Result result, String token) throws Exception {
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().startsWith("HTTP/1.1 200"), result.stdout());
        assertTrue(result.stdout().contains("placeholder=sk-ant-cage-"), result.stdout());
        assertTrue(result.stdout().contains("apikey=unset"), "the cage holds no API key placeholder: " + result.stdout());
        assertFalse(result.stdout().contains(token), "the real token reached the cage");
        assertFalse(result.stdout().contains("FOUND "), "the real token is in a file, environment or process of the cage: "
                + result.stdout());
        assertTrue(result.stdout().contains("HTTP/1.1 403"), "Anthropic is reached only through the gateway: "
                + result.stdout());
        List<RecordedRequest> requests = api.takeRequests();
        assertEquals(1, requests.size(), requests.toString());
        assertEquals(Optional.of("Bearer " + token), requests.get(0).header("authorization"));
        assertEquals(Optional.empty(), requests.get(0).header("x-api-key"));
        assertTrue(requests.get(0).header("anthropic-beta").orElse("").contains("oauth-2025-04-20"),
                requests.get(0).headers().toString());
        assertFalse(Files.readString(dir.resolve("audit.jsonl")).contains(token), "the token is in the audit log");
        assertFalse(result.stderr().contains("no API key (--api-key"), "no warning: the gateway holds the login");
    }

    @Test
    void theGatewayAddsTheTokenFromTheEnvironmentAndTheCageNeverHoldsIt() throws Exception {
        CageHarness.Result result = CageHarness.launch(filtered(SCRIPT), "",
                noApiKey(Map.of("CLAUDE_CODE_OAUTH_TOKEN", REAL_TOKEN)), Duration.ofMinutes(2));
        System.out.println(result);
        assertTheGatewayHeldTheToken(result, REAL_TOKEN);
    }

    @Test
    void underSudoTheInvokingUsersLoginFileIsTheOneUsed() throws Exception {
        String fileToken = TOKEN_PREFIX + "from-the-file-" + Long.toHexString(System.nanoTime());
        try (TestHostUser user = TestHostUser.create()) {
            user.write(".claude/.credentials.json", "{\"claudeAiOauth\":{\"accessToken\":\"" + fileToken
                    + "\",\"refreshToken\":\"sk-ant-ort01-unused\",\"expiresAt\":"
                    + Instant.now().plusSeconds(3600).toEpochMilli() + "}}");
            CageHarness.Result result = CageHarness.launch(filtered(SCRIPT), "", noApiKey(user.sudoEnvironment()),
                    Duration.ofMinutes(2));
            System.out.println(result);
            assertTheGatewayHeldTheToken(result, fileToken);
        }
    }

    @Test
    void anExpiredLoginFileIsRefusedByTheGatewayWithWhatToDo() throws Exception {
        try (TestHostUser user = TestHostUser.create()) {
            user.write(".claude/.credentials.json", "{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN_PREFIX
                    + "expired\",\"expiresAt\":" + Instant.now().minusSeconds(60).toEpochMilli() + "}}");
            CageHarness.Result result = CageHarness.launch(filtered(SCRIPT), "", noApiKey(user.sudoEnvironment()),
                    Duration.ofMinutes(2));
            System.out.println(result);
            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(result.stdout().startsWith("HTTP/1.1 401"), result.stdout());
            assertTrue(result.stdout().contains("expired at") && result.stdout().contains("claude setup-token"),
                    result.stdout());
            assertEquals(List.of(), api.takeRequests(), "nothing went upstream");
        }
    }

    /** The positive control: the same script without any login on the host finds no gateway and no placeholder. */
    @Test
    void controlWithoutALoginThereIsNoGatewayAndRunWarns() throws Exception {
        CageHarness.Result result = CageHarness.launch(filtered(
                        "echo \"base=${ANTHROPIC_BASE_URL:-unset} token=${CLAUDE_CODE_OAUTH_TOKEN:-unset}\""), "",
                noApiKey(Map.of()), Duration.ofMinutes(2));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("base=unset token=unset\n", result.stdout());
        assertTrue(result.stderr().contains("no API key (--api-key or ANTHROPIC_API_KEY) and no Claude login"),
                result.stderr());
    }

    /** The positive control of the search: a token put into the cage on purpose is found. */
    @Test
    void controlTheSearchFindsATokenThatIsInTheCage() throws Exception {
        List<String> args = filtered(SCRIPT);
        args.addAll(args.indexOf("--"), List.of("-e", "LEAKED=" + TOKEN_PREFIX + "put-in-on-purpose"));
        CageHarness.Result result = CageHarness.launch(args, "", noApiKey(Map.of("CLAUDE_CODE_OAUTH_TOKEN", REAL_TOKEN)),
                Duration.ofMinutes(2));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().lines().anyMatch(line -> line.matches("FOUND /proc/[0-9]+/environ")), result.stdout());
        api.takeRequests();
    }

    /** A session's supervisor finds the login itself, from the environment the start command gave it. */
    @Test
    void aSessionsGatewayHoldsTheLoginToo() throws Exception {
        CageHarness.destroyTestSessions();
        try {
            List<String> start = new ArrayList<>(List.of("start", "--detach", "--ephemeral", "--name", "it-oauth",
                    "--rootfs", ROOTFS.toString(), "--network", "filtered",
                    "--api-upstream", "http://" + apiHost.address4() + ":" + API_PORT, "--", "sleep", "300"));
            CageHarness.Result started = CageHarness.launch(start, "", noApiKey(Map.of("CLAUDE_CODE_OAUTH_TOKEN",
                    REAL_TOKEN)), Duration.ofMinutes(2));
            assertEquals(0, started.exitCode(), started.toString());
            CageHarness.Result shell = CageHarness.launch(List.of("shell", "it-oauth", "--", "bash", "-c",
                    SCRIPT), "", noApiKey(Map.of()), Duration.ofMinutes(2));
            System.out.println(shell);
            assertEquals(0, shell.exitCode(), shell.toString());
            assertTrue(shell.stdout().startsWith("HTTP/1.1 200"), shell.stdout());
            assertFalse(shell.stdout().contains("FOUND "), shell.stdout());
            assertEquals(List.of("Bearer " + REAL_TOKEN), api.takeRequests().stream()
                    .map(request -> request.header("authorization").orElse("")).toList());
        } finally {
            CageHarness.destroyTestSessions();
        }
        // The test's own network (its names hold "oauth") stays for the other tests.
        assertEquals(List.of(), CageHarness.sessionLeftovers().stream().filter(item -> !item.contains("oauth")).toList(),
                "the session left something behind");
    }
}
