package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code checkpoint}, {@code checkpoints}, {@code rollback} and {@code diff --since} on a real
 * {@code --clone} session: the agent writes in a running cage, the host checkpoints and rolls back
 * its copy, and the cage reads the restored files at once. Links the agent plants toward host
 * files are recorded as links and never followed, and the checkpoints lie where the cage cannot
 * reach them.
 */
class CheckpointIT {

    private static final List<String> MINE = List.of("it-checkpoint", "it-ckpt-timer");

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        CageHarness.requireCliImage();
        CageHarness.destroySessions(MINE);
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(MINE), "the host holds leftovers of this test's sessions");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        CageHarness.destroySessions(MINE);
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(MINE), "the sessions left something behind");
    }

    @Test
    void attack_checkpointAndRollbackFollowNoLinkThatTheAgentPlantsTowardHostFiles(@TempDir Path parent) throws Exception {
        Path repo = repository(parent);
        String secretText = "HOST-SECRET-" + UUID.randomUUID();
        Path secret = Files.writeString(parent.resolve("host-secret"), secretText + "\n");
        Path hostFolder = Files.createDirectory(parent.resolve("host-folder"));
        start("it-checkpoint", repo, "off");

        String marker = "AGENT-WORK-" + UUID.randomUUID();
        inCage("it-checkpoint", "cd /workspace && echo kept > kept.txt && mkdir -p src && echo " + marker
                + " > src/code.c && echo staged > staged.txt && git add staged.txt && ln -s " + secret + " loot");
        CageHarness.Result taken = cage("checkpoint", "it-checkpoint", "-m", "first work");
        assertEquals(0, taken.exitCode(), taken.toString());
        assertTrue(taken.stdout().contains("checkpoint 1 of it-checkpoint"), taken.toString());

        // The link is recorded as a link: the host file's content is nowhere in the checkpoints,
        // while the agent's file content is (the positive control: the search would find it).
        Path checkpoints = cloneRoot("it-checkpoint").resolve("checkpoints.git");
        String objects = SessionWorkspaceIT.git(checkpoints, "cat-file", "--batch-all-objects", "--batch");
        assertTrue(objects.contains(marker), "the agent's file is in the checkpoint");
        assertTrue(objects.contains(secret.toString()), "the link's target is recorded as the link's content");
        assertFalse(objects.contains(secretText), "the host file behind the link was read");

        // The agent ruins its copy and swaps a folder for a link to a host folder.
        inCage("it-checkpoint", "cd /workspace && echo ruined > kept.txt && rm staged.txt && echo new > added.txt "
                + "&& rm -r src && ln -s " + hostFolder + " src && rm loot");
        assertEquals(hostFolder + "\n", inCage("it-checkpoint", "readlink /workspace/src"),
                "the attack is in place before the rollback");

        CageHarness.Result rolledBack = cage("rollback", "it-checkpoint", "1");
        assertEquals(0, rolledBack.exitCode(), rolledBack.toString());
        assertTrue(rolledBack.stdout().contains("saved the state before as checkpoint 2"), rolledBack.toString());

        // The running cage reads the restored files at once.
        assertEquals("kept\n" + marker + "\nstaged\n" + secret + "\nno added.txt\n", inCage("it-checkpoint",
                "cd /workspace && cat kept.txt src/code.c staged.txt && readlink loot && "
                        + "(test -e added.txt && echo added.txt is back || echo no added.txt)"));
        assertTrue(inCage("it-checkpoint", "test -d /workspace/src && test ! -L /workspace/src && echo folder")
                .contains("folder"));
        try (var written = Files.list(hostFolder)) {
            assertEquals(List.of(), written.toList(), "the rollback wrote through the agent's link into a host folder");
        }
        assertEquals(secretText + "\n", Files.readString(secret));

        CageHarness.Result listed = cage("checkpoints", "it-checkpoint");
        assertEquals(0, listed.exitCode(), listed.toString());
        List<String> rows = listed.stdout().lines().toList();
        assertEquals(3, rows.size(), listed.toString());
        assertTrue(rows.get(1).startsWith("1 ") && rows.get(1).endsWith("first work"), listed.toString());
        assertTrue(rows.get(2).startsWith("2 ") && rows.get(2).endsWith("before rollback to checkpoint 1"), listed.toString());

        inCage("it-checkpoint", "echo later >> /workspace/kept.txt && printf 'esc\\033[2K\\n' > /workspace/odd.txt");
        CageHarness.Result since = cage("diff", "it-checkpoint", "--since", "1");
        assertEquals(0, since.exitCode(), since.toString());
        assertTrue(since.stdout().contains("+later"), since.toString());
        assertTrue(since.stdout().contains("+esc\\x1b[2K") && !since.stdout().contains("\u001b"),
                "the copy's bytes are escaped: " + since);

        assertEquals(0, cage("destroy", "it-checkpoint").exitCode());
    }

    @Test
    void theCageCanNeitherReachNorChangeTheCheckpoints(@TempDir Path parent) throws Exception {
        Path repo = repository(parent);
        start("it-checkpoint", repo, "off");
        inCage("it-checkpoint", "echo work > /workspace/work.txt");
        assertEquals(0, cage("checkpoint", "it-checkpoint").exitCode());
        Path root = cloneRoot("it-checkpoint");
        String commit = SessionWorkspaceIT.git(root.resolve("checkpoints.git"), "rev-parse", "refs/checkpoints/1").strip();

        String inside = inCage("it-checkpoint", "cd /workspace && git cat-file -t HEAD; "
                + "git cat-file -t " + commit + " 2>/dev/null || echo unknown; "
                + "grep -c '" + root + "/workspace' /proc/self/mountinfo; "
                + "grep -c '" + root + "/checkpoints' /proc/self/mountinfo; "
                + "grep -c '" + root + " ' /proc/self/mountinfo; "
                + "find / -path /proc -prune -o -name checkpoints.git -print 2>/dev/null | wc -l");
        // The copy's own commit and its mounts (the copy, and the walls' read-only binds in it) are
        // seen: the controls. The checkpoint's commit, its folder and the folder above the copy are not.
        List<String> lines = inside.lines().toList();
        assertEquals(List.of("commit", "unknown"), lines.subList(0, 2), inside);
        assertNotEquals("0", lines.get(2), "the copy's mounts are found in mountinfo: " + inside);
        assertEquals(List.of("0", "0", "0"), lines.subList(3, 6), inside);
    }

    @Test
    void theSupervisorCheckpointsEveryIntervalWhenTheCopyChanged(@TempDir Path parent) throws Exception {
        Path repo = repository(parent);
        start("it-ckpt-timer", repo, "10s");

        inCage("it-ckpt-timer", "echo one > /workspace/one.txt");
        List<String> first = awaitCheckpoints("it-ckpt-timer", 1);
        assertTrue(first.get(0).endsWith("every 10s"), first.toString());
        inCage("it-ckpt-timer", "echo two > /workspace/one.txt");
        List<String> second = awaitCheckpoints("it-ckpt-timer", 2);
        assertTrue(second.get(1).contains(" 1  every 10s"), "one path changed: " + second);

        // Nothing changes for more than two intervals: no checkpoint.
        Thread.sleep(25_000);
        assertEquals(2, checkpointRows("it-ckpt-timer").size());

        assertEquals(0, cage("destroy", "it-ckpt-timer").exitCode());
    }

    private static Path repository(Path parent) throws Exception {
        Path repo = Files.createDirectory(parent.resolve("repo"));
        SessionWorkspaceIT.git(repo, "init", "-q", "-b", "main");
        Files.writeString(repo.resolve("a.txt"), "one\n");
        SessionWorkspaceIT.git(repo, "add", "a.txt");
        SessionWorkspaceIT.git(repo, "commit", "-q", "-m", "first");
        HostFolders.ownByAUser(repo);
        return repo;
    }

    private static void start(String name, Path repo, String interval) {
        CageHarness.Result start = cage("start", "--detach", "--clone", "--name", name, "--network", "none",
                "--checkpoint-interval", interval, "--mount", repo + ":/workspace", "--", "sleep", "300");
        assertEquals(0, start.exitCode(), start.toString());
    }

    private static String inCage(String name, String script) {
        CageHarness.Result result = cage("shell", name, "--", "sh", "-c", script);
        assertEquals(0, result.exitCode(), result.toString());
        return result.stdout();
    }

    private static Path cloneRoot(String name) throws Exception {
        JsonNode origin = Json.mapper().readTree(Files.readString(CageHarness.SESSION_DATA.resolve(name).resolve("clone.json")));
        return Path.of(origin.get("cloneRoot").asText());
    }

    /** The rows of {@code checkpoints} once there are {@code count}, waiting at most a minute. */
    private static List<String> awaitCheckpoints(String name, int count) throws Exception {
        List<String> rows = new ArrayList<>();
        for (int attempt = 0; attempt < 60 && rows.size() < count; attempt++) {
            Thread.sleep(1000);
            rows = checkpointRows(name);
        }
        assertEquals(count, rows.size(), "checkpoints after a minute: " + rows);
        return rows;
    }

    private static List<String> checkpointRows(String name) {
        CageHarness.Result listed = cage("checkpoints", name);
        assertEquals(0, listed.exitCode(), listed.toString());
        assertNotEquals("", listed.stdout());
        return listed.stdout().lines().filter(line -> Character.isDigit(line.charAt(0))).toList();
    }
}
