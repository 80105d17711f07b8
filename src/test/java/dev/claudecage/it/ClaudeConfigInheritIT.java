package dev.claudecage.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The invoking user's Claude Code setup in real cages (claude_config: inherit): settings.json, CLAUDE.md,
 * agents/, commands/ and skills/ of the sudo user's ~/.claude appear read-only in the cage's ~/.claude,
 * beside the cage's own writable state; the login and the rest of ~/.claude never do. In a persisted home
 * the host makes the mount points itself and follows no link the cage left there.
 */
@ExtendWith(CleanSessionHost.class)
class ClaudeConfigInheritIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    /** What the cage sees, and what it may write. */
    private static final String LOOK = String.join("; ",
            "cd ~/.claude",
            "cat settings.json; echo; cat CLAUDE.md; cat agents/reviewer.md commands/ship.md skills/tidy/SKILL.md",
            "ls -A ~/.claude | sort | tr '\\n' ' '; echo",
            "(echo changed > settings.json) 2>&1 | sed 's/.*Read-only.*/settings read-only/'",
            "(touch agents/new.md) 2>&1 | sed 's/.*Read-only.*/agents read-only/'",
            "mkdir -p todos && echo mine > todos/t && echo own state writable",
            "stat -c '%U %a' ~/.claude");

    @TempDir
    Path dir;

    private TestHostUser user;

    @BeforeEach
    void aUserWithASetup() throws Exception {
        user = TestHostUser.create();
        user.write(".claude/settings.json", "{\"model\":\"opus\"}");
        user.write(".claude/CLAUDE.md", "# the user's own rules\n");
        user.write(".claude/agents/reviewer.md", "reviewer agent\n");
        user.write(".claude/commands/ship.md", "ship command\n");
        user.write(".claude/skills/tidy/SKILL.md", "tidy skill\n");
        user.write(".claude/.credentials.json", "{\"claudeAiOauth\":{\"accessToken\":\"sk-ant-oat01-never-in-a-cage\"}}");
        user.write(".claude/history.jsonl", "{\"display\":\"private history\"}\n");
        user.mkdirs(".claude/projects/-home-x");
    }

    @AfterEach
    void removeTheUser() throws Exception {
        if (user != null) {
            user.close();
        }
    }

    private CageHarness.Result run(List<String> extra, String script) {
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none"));
        args.addAll(extra);
        args.addAll(List.of("--", "bash", "-c", script));
        CageHarness.Result result = CageHarness.launch(args, "", user.sudoEnvironment(), TIMEOUT);
        System.out.println(result);
        return result;
    }

    private static void assertTheSetupIsThereReadOnly(CageHarness.Result result) {
        assertEquals(0, result.exitCode(), result.toString());
        List<String> lines = result.stdout().lines().toList();
        assertEquals(List.of("{\"model\":\"opus\"}", "# the user's own rules", "reviewer agent", "ship command",
                "tidy skill"), lines.subList(0, 5), result.stdout());
        String listing = lines.get(5);
        for (String item : List.of("settings.json", "CLAUDE.md", "agents", "commands", "skills")) {
            assertTrue((" " + listing).contains(" " + item + " "), item + " in " + listing);
        }
        for (String never : List.of(".credentials.json", "history.jsonl", "projects")) {
            assertFalse(listing.contains(never), never + " was carried: " + listing);
        }
        assertEquals(List.of("settings read-only", "agents read-only", "own state writable", "claude 700"),
                lines.subList(6, 10), result.stdout());
        assertFalse(result.stdout().contains("never-in-a-cage"));
    }

    @Test
    void aRunsTmpfsHomeHasTheUsersSetupReadOnly() {
        assertTheSetupIsThereReadOnly(run(List.of(), LOOK));
    }

    /** The positive control: with claude_config none, the same cage has no ~/.claude at all. */
    @Test
    void controlClaudeConfigNoneCarriesNothing() {
        CageHarness.Result result = run(List.of("--claude-config", "none"), "ls -A ~; test -e ~/.claude || echo no-claude");
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("no-claude"), result.stdout());
    }

    @Test
    void aLinkInTheUsersClaudeFolderThatLeavesTheirHomeIsNotFollowed() throws Exception {
        Path agents = user.home.resolve(".claude/agents");
        try (Stream<Path> files = Files.walk(agents)) {
            for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
        Files.createSymbolicLink(agents, Path.of("/root"));
        CageHarness.Result result = run(List.of(), "ls -A ~/.claude | sort | tr '\\n' ' '");
        assertEquals(0, result.exitCode(), result.toString());
        assertFalse(result.stdout().contains("agents"), result.stdout());
        assertTrue(result.stderr().contains("agents is not carried: it leads to /root, outside your home"),
                result.stderr());
    }

    @Test
    void aPersistedHomeKeepsItsOwnStateBesideTheSetupAndNoLinkOfTheCagesIsFollowed() throws Exception {
        String session = "it-claude-config";
        CageHarness.Result start = CageHarness.launch(List.of("start", "--detach", "--name", session, "--rootfs",
                ROOTFS.toString(), "--network", "none", "--", "sleep", "600"), "", user.sudoEnvironment(), TIMEOUT);
        assertEquals(0, start.exitCode(), start.toString());
        assertTheSetupIsThereReadOnly(cage("shell", session, "--", "bash", "-c", LOOK));
        Path home = CageHarness.SESSION_DATA.resolve(session).resolve("home");
        assertTrue(Files.isRegularFile(home.resolve(".claude/settings.json"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(0L, Files.size(home.resolve(".claude/settings.json")), "the mount point holds nothing of the user's");
        assertEquals("mine\n", Files.readString(home.resolve(".claude/todos/t")), "the cage's own state persists");
        assertEquals(0, cage("stop", "--timeout", "1", session).exitCode());

        // What a cage could leave in its own home for the next start: a link where a mount point goes.
        Path hostFolder = Files.createDirectories(dir.resolve("host-folder"));
        Files.delete(home.resolve(".claude/agents"));
        Files.createSymbolicLink(home.resolve(".claude/agents"), hostFolder);
        CageHarness.Result again = CageHarness.launch(List.of("start", "--detach", "--name", session), "",
                user.sudoEnvironment(), TIMEOUT);
        assertEquals(0, again.exitCode(), again.toString());
        CageHarness.Result look = cage("shell", session, "--", "bash", "-c",
                "cat ~/.claude/commands/ship.md; test -L ~/.claude/agents && echo agents-is-the-cages-link");
        assertEquals("ship command\nagents-is-the-cages-link\n", look.stdout(), look.toString());
        try (Stream<Path> made = Files.list(hostFolder)) {
            assertEquals(List.of(), made.toList(), "something was made or mounted through the cage's link");
        }
        assertTrue(Files.readString(CageHarness.SESSION_DATA.resolve(session).resolve("logs/supervisor.log"))
                .contains("~/.claude/agents in the session's home"), "the refusal is in the supervisor's log");
        assertEquals(0, cage("destroy", session).exitCode());
    }

    @Test
    void withoutSudoAsRootNothingIsCarried() {
        CageHarness.Result result = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--", "bash", "-c", "test -e ~/.claude && echo carried || echo nothing"), "", Map.of(), TIMEOUT);
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("nothing\n", result.stdout(), result.toString());
    }
}
