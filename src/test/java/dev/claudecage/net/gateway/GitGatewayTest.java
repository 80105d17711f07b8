package dev.claudecage.net.gateway;

import dev.claudecage.UserInputException;
import dev.claudecage.config.GitAccessRules;
import dev.claudecage.config.GitCredential;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.NameResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the git gateway refuses before anything leaves the host, and before it asks for a token:
 * requests without the placeholder, hosts without a credential, anything but git's smart HTTP.
 * The way through, with a real git server and TLS, is GitCredentialsIT's.
 */
class GitGatewayTest {

    private static final GitCredential CREDENTIAL = new GitCredential("git.test", GitCredential.DEFAULT_USER,
            List.of("never-run"), null);

    private final List<AuditEvent> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger tokensAsked = new AtomicInteger();
    private final PlaceholderKey placeholder = PlaceholderKey.generate();
    private final EgressPolicy policy = new EgressPolicy(List.of(HostRule.parse("git.test"), HostRule.parse("other.test")),
            Map.of(), 1L << 30, 64);
    private GitGateway gateway;

    @BeforeEach
    void start() throws Exception {
        start(GitAccessRules.defaults());
    }

    private void start(GitAccessRules rules) throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        gateway = GitGateway.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), placeholder,
                List.of(CREDENTIAL), rules, credential -> {
                    tokensAsked.incrementAndGet();
                    return "t0ken-never-used".toCharArray();
                }, policy, NameResolver.pinnedOnly(policy), SSLContext.getDefault(), events::add,
                GitGateway.Settings.defaults(8));
    }

    @AfterEach
    void stop() {
        gateway.close();
    }

    private RawHttp.Response get(String target) throws Exception {
        return RawHttp.send(gateway.address(), "GET", target, List.of(), null);
    }

    @Test
    void withoutThePlaceholderNothingHappens() throws Exception {
        assertEquals(401, get("/git.test/repo.git/info/refs?service=git-upload-pack").status());
        assertEquals(401, get("/sk-ant-cage-wrong/git.test/repo.git/info/refs?service=git-upload-pack").status());
        assertEquals(0, tokensAsked.get());
        assertTrue(events.stream().allMatch(event -> event.decision().equals(AuditEvent.DENIED)), events.toString());
        assertFalse(events.toString().contains(placeholder.value()), "the placeholder is in the audit");
    }

    @Test
    void aHostWithoutACredentialGetsNoToken() throws Exception {
        RawHttp.Response response = get("/" + placeholder.value() + "/other.test/repo.git/info/refs?service=git-upload-pack");
        assertEquals(403, response.status());
        assertTrue(response.bodyText().contains("other.test has no git credential; the gateway adds tokens only for git.test"),
                response.bodyText());
        assertEquals(0, tokensAsked.get());
        assertEquals("other.test", events.get(0).destination());
        assertEquals(AuditEvent.DENIED, events.get(0).decision());
    }

    @Test
    void aTargetThatNamesNoHostIsABadRequest() throws Exception {
        for (String target : List.of("/" + placeholder.value() + "/10.0.0.1/r.git/info/refs?service=git-upload-pack",
                "/" + placeholder.value() + "/a..b/r.git/info/refs?service=git-upload-pack",
                "/" + placeholder.value() + "/")) {
            int status = get(target).status();
            assertTrue(status == 400 || status == 403, target + " got " + status);
        }
        assertEquals(0, tokensAsked.get());
    }

    @Test
    void onlyGitSmartHttpGetsTheToken() throws Exception {
        for (String path : List.of("/api/v3/user", "/repo.git/info/refs", "/repo.git/info/refs?service=evil",
                "/repo.git/HEAD", "/repo.git/objects/info/packs")) {
            assertEquals(403, get("/" + placeholder.value() + "/git.test" + path).status(), path);
        }
        assertEquals(0, tokensAsked.get());
        assertTrue(GitGateway.isGitRequest("GET", "/o/r.git/info/refs?service=git-upload-pack"));
        assertTrue(GitGateway.isGitRequest("GET", "/o/r/info/refs?service=git-receive-pack"));
        assertTrue(GitGateway.isGitRequest("POST", "/o/r.git/git-upload-pack"));
        assertTrue(GitGateway.isGitRequest("POST", "/o/r.git/git-receive-pack"));
        assertFalse(GitGateway.isGitRequest("POST", "/o/r.git/info/refs?service=git-upload-pack"));
        assertFalse(GitGateway.isGitRequest("GET", "/o/r.git/git-receive-pack"));
        assertFalse(GitGateway.isGitRequest("DELETE", "/o/r.git/git-receive-pack"));
    }

    @Test
    void aCredentialForAHostTheProxyWouldRefuseIsAConfigurationError() {
        GitCredential elsewhere = new GitCredential("elsewhere.test", "u", List.of("x"), null);
        UserInputException error = assertThrows(UserInputException.class, () -> GitGateway.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), placeholder, List.of(elsewhere),
                GitAccessRules.defaults(), credential -> new char[0], policy, NameResolver.pinnedOnly(policy), SSLContext.getDefault(), events::add,
                GitGateway.Settings.defaults(8)));
        assertTrue(error.getMessage().contains("elsewhere.test, which allowed_hosts does not allow on port 443"),
                error.getMessage());
    }

    @Test
    void theRepositoryIsThePathWithoutDotGitAndOnlyAPlainOneCounts() {
        assertEquals(new GitGateway.GitTarget("me/app", false), GitGateway.target("GET", "/me/app.git/info/refs?service=git-upload-pack"));
        assertEquals(new GitGateway.GitTarget("me/app", true), GitGateway.target("POST", "/me/app/git-receive-pack"));
        assertEquals(new GitGateway.GitTarget("group/sub/app", false), GitGateway.target("POST", "/group/sub/app.git/git-upload-pack"));
        // Paths a server could read as another repository than the rules were checked against.
        for (String path : List.of("/me/../other/git-upload-pack", "/me/./app/git-upload-pack", "/me//app/git-upload-pack",
                "/me/%2e%2e/other/git-upload-pack", "/me/app.git//git-upload-pack", "/me/.app/git-upload-pack",
                "/me/app;x/git-upload-pack", "//git-upload-pack")) {
            GitGateway.GitTarget target = GitGateway.target("POST", path);
            assertTrue(target != null && target.repository() == null, path + " gave " + target);
        }
    }

    @Test
    void theRulesDecideEachRefUpdate() {
        GitAccessRules rules = new GitAccessRules(List.of("*"), List.of("*"), List.of("refs/heads/claude/*", "refs/heads/wip/*"),
                List.of("refs/heads/wip/*"));
        String zero = "0".repeat(40);
        String a = "a".repeat(40);
        String b = "b".repeat(40);
        List<String> reasons = GitGateway.refusals(List.of(
                new ReceivePackCommands.Command(zero, a, "refs/heads/claude/new"),
                new ReceivePackCommands.Command(a, b, "refs/heads/claude/existing"),
                new ReceivePackCommands.Command(a, zero, "refs/heads/claude/gone"),
                new ReceivePackCommands.Command(zero, a, "refs/heads/main"),
                new ReceivePackCommands.Command(zero, a, "refs/tags/v1"),
                new ReceivePackCommands.Command(a, b, "refs/heads/wip/rewritten"),
                new ReceivePackCommands.Command(a, zero, "refs/heads/wip/gone")), rules);
        assertEquals(null, reasons.get(0), "creating a branch the rules allow");
        assertEquals(GitGateway.UNPROVEN, reasons.get(1), "an update of an existing ref: only its pack can show a fast-forward");
        assertTrue(reasons.get(2).contains("deleting a ref needs git_push_force_refs"), reasons.get(2));
        assertTrue(reasons.get(3).contains("git_push_refs allows only refs/heads/claude/*, refs/heads/wip/*"), reasons.get(3));
        assertTrue(reasons.get(4).contains("git_push_refs allows only"), reasons.get(4));
        assertEquals(null, reasons.get(5), "a forced update where git_push_force_refs allows it");
        assertEquals(null, reasons.get(6), "a delete where git_push_force_refs allows it");
    }

    private RawHttp.Response push(byte[] body) throws Exception {
        byte[] head = RawHttp.head("POST", "/" + placeholder.value() + "/git.test/me/app.git/git-receive-pack",
                List.of("Content-Type: application/x-git-receive-pack-request"), body.length)
                .getBytes(StandardCharsets.ISO_8859_1);
        return RawHttp.sendRaw(gateway.address(), ReceivePackCommandsTest.concat(head, body));
    }

    @Test
    void aPushToMainIsAnsweredWithGitsOwnRefusalAndNeverLeavesTheHost() throws Exception {
        // A pack larger than the sockets' buffers: the client is still sending when the gateway answers, as git is
        // with a real pack; an answer given before the rest was read reset the connection ("Broken pipe").
        byte[] body = ReceivePackCommandsTest.concat(
                ReceivePackCommandsTest.pkt(ReceivePackCommandsTest.A + " " + ReceivePackCommandsTest.B
                        + " refs/heads/main\0report-status side-band-64k\n"),
                ReceivePackCommandsTest.FLUSH, ReceivePackCommandsTest.PACK, new byte[8 << 20]);
        RawHttp.Response response = push(body);

        assertEquals(200, response.status());
        assertEquals("application/x-git-receive-pack-result", response.header("Content-Type"));
        String result = new String(response.body(), StandardCharsets.ISO_8859_1);
        assertTrue(result.contains("\u0002claude-cage git gateway: the push to me/app is refused; nothing was sent to git.test."),
                result);
        assertTrue(result.contains("unpack ok\n") && result.contains("ng refs/heads/main claude-cage: git_push_refs allows only "
                + "refs/heads/claude/*\n"), result);
        assertEquals(0, tokensAsked.get(), "a token was fetched for a refused push");
        assertTrue(events.stream().anyMatch(event -> event.decision().equals(AuditEvent.DENIED) && event.reason().equals(
                "push me/app refs/heads/main " + ReceivePackCommandsTest.A + ".." + ReceivePackCommandsTest.B
                        + ": refused: claude-cage: git_push_refs allows only refs/heads/claude/*")), events.toString());

        // The positive control: the same push, with main allowed, goes on to the upstream (here, no address for it).
        start(new GitAccessRules(List.of("*"), List.of("*"), List.of("refs/heads/main"), List.of("refs/heads/main")));
        events.clear();
        RawHttp.Response allowed = push(body);
        assertEquals(502, allowed.status(), allowed.bodyText());
        assertTrue(events.stream().anyMatch(event -> event.decision().equals(AuditEvent.ALLOWED)
                && event.reason().endsWith("refs/heads/main " + ReceivePackCommandsTest.A + ".." + ReceivePackCommandsTest.B
                + ": allowed by the rules")), events.toString());
    }

    @Test
    void aMalformedPushIsABadRequest() throws Exception {
        RawHttp.Response response = push("00zzjunk".getBytes(StandardCharsets.US_ASCII));
        assertEquals(400, response.status());
        assertTrue(response.bodyText().contains("refused, not sent: a malformed pkt-line length"), response.bodyText());
        assertEquals(0, tokensAsked.get());
    }

    @Test
    void repositoriesOutsideTheRulesAreRefusedBeforeAnyToken() throws Exception {
        start(new GitAccessRules(List.of("me/app"), List.of("me/app"), List.of("refs/heads/claude/*"), List.of()));
        RawHttp.Response fetch = get("/" + placeholder.value() + "/git.test/me/other.git/info/refs?service=git-upload-pack");
        assertEquals(403, fetch.status());
        assertTrue(fetch.bodyText().contains("fetches from me/other are refused: git_fetch_repositories allows me/app"),
                fetch.bodyText());
        RawHttp.Response pushRefs = get("/" + placeholder.value() + "/git.test/me/other/info/refs?service=git-receive-pack");
        assertEquals(403, pushRefs.status());
        assertTrue(pushRefs.bodyText().contains("pushes to me/other are refused: git_push_repositories allows me/app"),
                pushRefs.bodyText());
        assertEquals(403, get("/" + placeholder.value() + "/git.test/me/%2e%2e/app/info/refs?service=git-upload-pack").status());
        assertEquals(0, tokensAsked.get());
        // The positive control: the allowed repository passes the rules and goes on to the upstream (no address here).
        assertEquals(502, get("/" + placeholder.value() + "/git.test/me/app.git/info/refs?service=git-upload-pack").status());
    }

    @Test
    void gitIsPointedAtTheGatewayForNamedHostsOnly() {
        assertEquals(List.of("GIT_CONFIG_COUNT=1",
                "GIT_CONFIG_KEY_0=url.http://10.0.0.1:8081/" + placeholder.value() + "/git.test/.insteadOf",
                "GIT_CONFIG_VALUE_0=https://git.test/"), GitGateway.gitConfig("10.0.0.1:8081", placeholder, List.of(CREDENTIAL)));
    }
}
