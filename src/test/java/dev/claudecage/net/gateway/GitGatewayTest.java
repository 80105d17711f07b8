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
        gateway = GitGateway.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), placeholder,
                List.of(CREDENTIAL), GitAccessRules.defaults(), credential -> {
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
    void gitIsPointedAtTheGatewayForNamedHostsOnly() {
        assertEquals(List.of("GIT_CONFIG_COUNT=1",
                "GIT_CONFIG_KEY_0=url.http://10.0.0.1:8081/" + placeholder.value() + "/git.test/.insteadOf",
                "GIT_CONFIG_VALUE_0=https://git.test/"), GitGateway.gitConfig("10.0.0.1:8081", placeholder, List.of(CREDENTIAL)));
    }
}
