package dev.claudecage.it;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.testing.GitHttpServer;
import dev.claudecage.host.Netns;
import dev.claudecage.testing.TestCertificates;
import dev.claudecage.testing.TestNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Git over HTTPS without the token in the cage, on the test's own small internet: two git servers
 * ({@code git http-backend} behind HTTPS with a test CA), each on a test host of its own, both
 * requiring the same token. From a cage of the cli image: clone and push to the host named in
 * git_credentials work through the git gateway; the token is in no file or environment in the
 * cage, and the server saw it only in the Authorization header; a push to the other host (allowed,
 * but not named) goes through the proxy and carries no token, and the gateway refuses that host.
 */
class GitCredentialsIT {

    private static final String TOKEN_HEAD = "ghp_cagetest";
    private static final String TOKEN_TAIL = Long.toHexString(System.nanoTime());
    private static final String TOKEN = TOKEN_HEAD + TOKEN_TAIL;

    @TempDir
    static Path shared;

    private static TestNetwork internet;
    private static TestNetwork.TestHost gitHost;
    private static TestNetwork.TestHost otherHost;
    private static GitHttpServer git;
    private static GitHttpServer other;
    private static TestCertificates certificates;

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        CageHarness.requireCliImage();
        certificates = TestCertificates.create(shared, List.of("githost.test", "otherhost.test"));
        Path repos = Files.createDirectories(shared.resolve("repos"));
        GitHttpServer.seedRepository(repos.resolve("repo.git"));
        Path scratch = Files.createDirectories(shared.resolve("scratch"));
        internet = new TestNetwork("gitc");
        gitHost = internet.addHost("git");
        otherHost = internet.addHost("other");
        git = Netns.call(gitHost.namespace(), () -> GitHttpServer.start(new InetSocketAddress(gitHost.address4(), 443),
                certificates.serverContext(), repos, scratch, "x-access-token", TOKEN));
        other = Netns.call(otherHost.namespace(), () -> GitHttpServer.start(
                new InetSocketAddress(otherHost.address4(), 443), certificates.serverContext(), repos, scratch,
                "x-access-token", TOKEN));
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        if (git != null) {
            git.close();
        }
        if (other != null) {
            other.close();
        }
        if (internet != null) {
            internet.close();
        }
    }

    @BeforeEach
    void hostIsClean() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the host holds cage leftovers before the test");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
        assertEquals(List.of(), NetworkLeftovers.listExcept("gitc"), "the cage left network state behind");
    }

    @Test
    void cloneAndPushWorkWithTheTokenAddedOutsideTheCageAndOnlyForTheNamedHost(@TempDir Path dir) throws Exception {
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
        Path ca = Files.createDirectories(dir.resolve("ca"));
        Files.copy(certificates.caPem(), ca.resolve("ca.pem"));
        Files.setPosixFilePermissions(ca, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(ca.resolve("ca.pem"), PosixFilePermissions.fromString("rw-r--r--"));
        Path audit = dir.resolve("audit.jsonl");
        String script = String.join("\n",
                "set -u",
                "export GIT_TERMINAL_PROMPT=0 GIT_SSL_CAINFO=/ca/ca.pem",
                "git config --global user.name agent && git config --global user.email agent@cage.test",
                "git clone -q https://githost.test/repo.git /tmp/c && echo CLONED",
                "cd /tmp/c && echo hi > hello.txt && git add hello.txt && git commit -qm 'from the cage'",
                "git push -q origin HEAD:main && echo PUSHED",
                "git fetch -q origin && echo FETCHED",
                // A pack larger than git's 1 MiB post buffer goes up chunked.
                "head -c 3000000 /dev/urandom > big.bin && git add big.bin && git commit -qm big",
                "git push -q origin HEAD:main && echo PUSHED_BIG",
                // The host not named in git_credentials: through the proxy, with no token.
                "git push -q https://otherhost.test/repo.git HEAD:refs/heads/other 2>&1 | tail -1",
                "echo OTHER_PUSH_EXIT=${PIPESTATUS[0]}",
                // The gateway itself refuses a host without a credential.
                "gw=${GIT_CONFIG_KEY_0#url.}; gw=${gw%/githost.test/.insteadOf}",
                "echo GATEWAY_OTHER=$(curl -s -o /dev/null -w '%{http_code}' "
                        + "\"$gw/otherhost.test/repo.git/info/refs?service=git-upload-pack\")",
                "echo GATEWAY_API=$(curl -s -o /dev/null -w '%{http_code}' \"$gw/githost.test/api/user\")",
                // The token, assembled here so that this script's own text does not hold it.
                "token=" + TOKEN_HEAD + "; token=${token}" + TOKEN_TAIL,
                // The pattern comes from a file outside the searched places, so grep's own arguments do not hold it.
                "printf '%s\\n' \"$token\" > /dev/shm/pattern",
                "grep -rlsF -f /dev/shm/pattern /proc/[0-9]*/environ /proc/[0-9]*/cmdline /etc /home /tmp /run /ca "
                        + "| sed 's/^/FOUND /'",
                "env | grep -c \"$token\" | sed 's/^/ENV_MATCHES=/'",
                // The positive control: the same search finds the token where it is.
                "printf '%s' \"$token\" > /tmp/control.txt",
                "grep -rlsF -f /dev/shm/pattern /tmp | sed 's/^/CONTROL /'",
                "exit 0");
        List<String> args = new ArrayList<>(List.of("run", "--image", "cli", "--network", "filtered",
                "--allowed-host", "githost.test", "--allowed-host", "otherhost.test",
                "--resolve", "githost.test=" + gitHost.address4(), "--resolve", "otherhost.test=" + otherHost.address4(),
                "--git-credential", "githost.test=command:cat " + tokenFile,
                // This test pushes to main, beyond the default rules (GitForgeRulesIT covers those); its second and
                // third pushes move main forward, which the gateway reads from their packs, the big one sent chunked.
                "--git-push-ref", "refs/heads/main",
                "--git-ca-certificates", certificates.caPem().toString(),
                "--mount", ca + ":/ca:ro", "--audit-log", audit.toString(), "--", "bash", "-c", script));
        CageHarness.Result result = CageHarness.launch(args, "", Map.of(), Duration.ofMinutes(3));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.toString());
        String out = result.stdout();
        assertTrue(out.contains("CLONED"), out);
        assertTrue(out.contains("PUSHED"), out);
        assertTrue(out.contains("FETCHED"), out);
        assertTrue(out.contains("PUSHED_BIG"), out);
        assertFalse(out.contains("FOUND "), "the token is readable in the cage: " + out);
        assertTrue(out.contains("ENV_MATCHES=0"), out);
        assertTrue(out.contains("CONTROL /tmp/control.txt"), "the search would not have found the token: " + out);
        assertFalse(out.contains(TOKEN), "the token reached the cage's output");
        assertFalse(out.contains("OTHER_PUSH_EXIT=0"), "the push to the unnamed host must fail without a token: " + out);
        assertTrue(out.contains("GATEWAY_OTHER=403"), out);
        assertTrue(out.contains("GATEWAY_API=403"), out);

        // The named host got the token, and only in the Authorization header.
        String expected = "Basic " + Base64.getEncoder().encodeToString(("x-access-token:" + TOKEN)
                .getBytes(StandardCharsets.UTF_8));
        List<GitHttpServer.Seen> seenByGit = git.seen();
        assertTrue(seenByGit.stream().anyMatch(seen -> seen.method().equals("POST")
                && seen.target().endsWith("/git-receive-pack") && expected.equals(seen.authorization())), seenByGit.toString());
        assertTrue(seenByGit.stream().anyMatch(seen -> seen.chunked() && seen.body().length > 1_000_000),
                "the big push did not go up chunked");
        for (GitHttpServer.Seen seen : seenByGit) {
            assertFalse(seen.target().contains(TOKEN), "the token is in a request target: " + seen.target());
            assertFalse(new String(seen.body(), StandardCharsets.ISO_8859_1).contains(TOKEN), "the token is in a body");
            assertFalse(seen.target().contains("sk-ant-cage-"), "the placeholder reached the server");
        }
        // The push landed.
        String landed = new ProcessRunner(false).run(List.of("git", "--git-dir", shared.resolve("repos/repo.git").toString(),
                "log", "-1", "--format=%s", "main"), Duration.ofSeconds(30)).stdout();
        assertEquals("big", landed.strip());

        // The other host saw the cage's requests, none with a credential.
        List<GitHttpServer.Seen> seenByOther = other.seen();
        assertFalse(seenByOther.isEmpty(), "the push to the other host never arrived");
        assertTrue(seenByOther.stream().allMatch(seen -> seen.authorization() == null), seenByOther.toString());

        List<AuditEvent> events = AuditLog.read(audit);
        assertTrue(events.stream().anyMatch(e -> e.source().equals("git") && "githost.test".equals(e.destination())
                && e.decision().equals(AuditEvent.ALLOWED) && e.reason().contains("git-receive-pack 200")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.source().equals("git") && "otherhost.test".equals(e.destination())
                && e.decision().equals(AuditEvent.DENIED)), events.toString());
        String auditText = Files.readString(audit);
        assertFalse(auditText.contains(TOKEN), "the token is in the audit log");
        assertFalse(auditText.contains("sk-ant-cage-"), "the placeholder is in the audit log");
    }

    @Test
    void aTokenTheServerRefusesIsReportedNotAskedFor(@TempDir Path dir) throws Exception {
        List<String> args = List.of("run", "--image", "cli", "--network", "filtered", "--allowed-host", "githost.test",
                "--resolve", "githost.test=" + gitHost.address4(),
                "--git-credential", "githost.test=command:printf not-the-token",
                "--git-ca-certificates", certificates.caPem().toString(), "--audit-log", dir.resolve("audit.jsonl").toString(),
                "--", "bash", "-c", "git ls-remote https://githost.test/repo.git 2>&1; echo EXIT=$?");
        CageHarness.Result result = CageHarness.launch(args, "", Map.of(), Duration.ofMinutes(2));
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("githost.test refused the token from command printf (401)"), result.toString());
        assertFalse(result.stdout().contains("EXIT=0"), result.toString());
        assertFalse(result.stdout().contains("Username"), "git asked for credentials: " + result);
    }
}
