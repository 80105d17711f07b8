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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forge access by repository and ref, against {@code git http-backend} on a test host that serves two
 * repositories, me/repo and me/other: from a cage of the cli image, with the rules narrowed to me/repo and the
 * default refs, a push to main, a forced update and a delete of claude/x, a push to me/other and a fetch from
 * me/other are refused with the gateway's reasons in git's own output, and a push that creates claude/x and one
 * that moves it forward (shown by the pack's commits) go through;
 * the upstream's refs are unchanged by every refusal. The positive control runs the same script with rules that
 * allow everything, and every step succeeds: the refusals are the rules', not the test's.
 */
class GitForgeRulesIT {

    private static final String TOKEN = "ghp_forgetest" + Long.toHexString(System.nanoTime());
    private static final Duration GIT_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path shared;

    private static TestNetwork internet;
    private static TestNetwork.TestHost gitHost;
    private static GitHttpServer git;
    private static TestCertificates certificates;
    private static Path repos;

    /** Each step prints its git output prefixed with its name, then NAME=EXIT. */
    private static final String SCRIPT = String.join("\n",
            "set -u",
            "export GIT_TERMINAL_PROMPT=0 GIT_SSL_CAINFO=/ca/ca.pem",
            "git config --global user.name agent && git config --global user.email agent@cage.test",
            "step() { name=$1; shift; \"$@\" 2>&1 | sed \"s/^/$name| /\"; echo \"$name=${PIPESTATUS[0]}\"; }",
            "step CLONE git clone -q https://githost.test/me/repo.git /tmp/c",
            "cd /tmp/c && echo a > a.txt && git add a.txt && git commit -qm first",
            "step MAIN git push origin HEAD:refs/heads/main",
            "step CLAUDE git push origin HEAD:refs/heads/claude/x",
            "echo b > b.txt && git add b.txt && git commit -qm second",
            "step FASTFORWARD git push origin HEAD:refs/heads/claude/x",
            "git commit -q --amend -m rewritten",
            "step FORCE git push --force origin HEAD:refs/heads/claude/x",
            "step DELETE git push origin :refs/heads/claude/x",
            "step OTHER_PUSH git push https://githost.test/me/other.git HEAD:refs/heads/claude/y",
            "step OTHER_FETCH git ls-remote https://githost.test/me/other.git",
            "exit 0");

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        CageHarness.requireCliImage();
        certificates = TestCertificates.create(shared, List.of("githost.test"));
        repos = Files.createDirectories(shared.resolve("repos/me"));
        GitHttpServer.seedRepository(repos.resolve("repo.git"));
        GitHttpServer.seedRepository(repos.resolve("other.git"));
        Path scratch = Files.createDirectories(shared.resolve("scratch"));
        internet = new TestNetwork("gitf");
        gitHost = internet.addHost("git");
        git = Netns.call(gitHost.namespace(), () -> GitHttpServer.start(new InetSocketAddress(gitHost.address4(), 443),
                certificates.serverContext(), shared.resolve("repos"), scratch, "x-access-token", TOKEN));
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        if (git != null) {
            git.close();
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
        assertEquals(List.of(), NetworkLeftovers.listExcept("gitf"), "the cage left network state behind");
    }

    @Test
    void theRulesRefuseMainForcedUpdatesDeletesAndOtherRepositoriesAndTheSamePushesPassWhenTheyAllowThem(
            @TempDir Path dir) throws Exception {
        String mainBefore = refs("repo.git");
        String otherBefore = refs("other.git");
        Path audit = dir.resolve("audit.jsonl");
        String narrow = run(dir, audit, List.of("--git-fetch-repository", "me/repo", "--git-push-repository", "me/repo"));

        assertTrue(narrow.contains("CLONE=0"), narrow);
        assertStepFailed(narrow, "MAIN", "git_push_refs allows only refs/heads/claude/*");
        assertTrue(narrow.contains("MAIN| remote: claude-cage git gateway: the push to me/repo is refused"),
                "git did not show the gateway's side-band message: " + narrow);
        assertTrue(narrow.contains("CLAUDE=0"), narrow);
        assertTrue(narrow.contains("FASTFORWARD=0"), "a fast-forward of claude/x, shown by its pack, was refused: " + narrow);
        assertStepFailed(narrow, "FORCE", "not shown to be a fast-forward");
        assertStepFailed(narrow, "DELETE", "deleting a ref needs git_push_force_refs");
        assertStepFailed(narrow, "OTHER_PUSH", "pushes to me/other are refused");
        assertStepFailed(narrow, "OTHER_FETCH", "fetches from me/other are refused");

        // Upstream: main and me/other as seeded; claude/x holds the pushes that were allowed, not the rewrite.
        String after = refs("repo.git");
        assertEquals(line(mainBefore, "refs/heads/main"), line(after, "refs/heads/main"), after);
        assertEquals("second", subject("repo.git", "refs/heads/claude/x"));
        assertEquals(otherBefore, refs("other.git"));

        List<AuditEvent> events = AuditLog.read(audit);
        assertTrue(events.stream().anyMatch(e -> e.source().equals("git") && e.decision().equals(AuditEvent.DENIED)
                && e.reason().matches("push me/repo refs/heads/main [0-9a-f]{40}\\.\\.[0-9a-f]{40}: refused: .*")),
                events.toString());
        assertTrue(events.stream().anyMatch(e -> e.source().equals("git") && e.decision().equals(AuditEvent.ALLOWED)
                && e.reason().matches("push me/repo refs/heads/claude/x 0{40}\\.\\.[0-9a-f]{40}: allowed by the rules")),
                events.toString());
        assertTrue(events.stream().anyMatch(e -> e.decision().equals(AuditEvent.ALLOWED) && e.reason().matches(
                "push me/repo refs/heads/claude/x [0-9a-f]{40}\\.\\.[0-9a-f]{40}: allowed by the rules, fast-forwards shown by the pack")),
                events.toString());
        assertFalse(Files.readString(audit).contains(TOKEN), "the token is in the audit log");

        // The positive control: the same script, with rules that allow it all, and every step goes through. The
        // upstream gets its seed state back first (claude/x went up above), so that git's own checks pass as before.
        new ProcessRunner(false).run(List.of("git", "--git-dir", repos.resolve("repo.git").toString(), "update-ref", "-d",
                "refs/heads/claude/x"), GIT_TIMEOUT);
        String wide = run(dir, dir.resolve("audit-wide.jsonl"), List.of("--git-push-ref", "refs/heads/*",
                "--git-push-force-ref", "refs/heads/*"));
        for (String step : List.of("CLONE", "MAIN", "CLAUDE", "FASTFORWARD", "FORCE", "DELETE", "OTHER_PUSH", "OTHER_FETCH")) {
            assertTrue(wide.contains(step + "=0"), step + " failed where the rules allow it: " + wide);
        }
        assertEquals("first", subject("repo.git", "refs/heads/main"));
        assertFalse(refs("repo.git").contains("refs/heads/claude/x"), "the allowed delete did not land");
        assertEquals("rewritten", subject("other.git", "refs/heads/claude/y"));
    }

    private static void assertStepFailed(String out, String step, String reason) {
        assertFalse(out.contains(step + "=0"), step + " succeeded: " + out);
        assertTrue(out.lines().anyMatch(line -> line.startsWith(step + "| ") && line.contains(reason)),
                step + " does not show '" + reason + "': " + out);
    }

    private static String run(Path dir, Path audit, List<String> rules) throws Exception {
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
        Path ca = dir.resolve("ca");
        if (!Files.exists(ca)) {
            Files.createDirectories(ca);
            Files.copy(certificates.caPem(), ca.resolve("ca.pem"));
            Files.setPosixFilePermissions(ca, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(ca.resolve("ca.pem"), PosixFilePermissions.fromString("rw-r--r--"));
        }
        List<String> args = new ArrayList<>(List.of("run", "--image", "cli", "--network", "filtered",
                "--allowed-host", "githost.test", "--resolve", "githost.test=" + gitHost.address4(),
                "--git-credential", "githost.test=file:" + tokenFile,
                "--git-ca-certificates", certificates.caPem().toString(),
                "--mount", ca + ":/ca:ro", "--audit-log", audit.toString()));
        args.addAll(rules);
        args.addAll(List.of("--", "bash", "-c", SCRIPT));
        CageHarness.Result result = CageHarness.launch(args, "", Map.of(), Duration.ofMinutes(3));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.toString());
        return result.stdout();
    }

    private static String refs(String repository) {
        return new ProcessRunner(false).run(List.of("git", "--git-dir", repos.resolve(repository).toString(),
                "for-each-ref", "--format=%(objectname) %(refname)"), GIT_TIMEOUT).stdout();
    }

    private static String subject(String repository, String ref) {
        return new ProcessRunner(false).run(List.of("git", "--git-dir", repos.resolve(repository).toString(), "log", "-1",
                "--format=%s", ref), GIT_TIMEOUT).stdout().strip();
    }

    private static String line(String refs, String ref) {
        return refs.lines().filter(line -> line.endsWith(" " + ref)).findFirst().orElse("(none)");
    }
}
