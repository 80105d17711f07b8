package dev.claudecage.workspace;

import dev.claudecage.config.MountOwnership;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With real git: which repositories a cage could leave in a workspace would run programs, and which would not. */
class NestedRepositoriesTest {

    private final ProcessRunner runner = new ProcessRunner(false);

    private void git(Path dir, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("git", "-C", dir.toString()));
        command.addAll(List.of(args));
        runner.run(command, Duration.ofSeconds(30));
    }

    /** As the mount's owner, who runs the tests here. */
    private List<NestedRepositories.Finding> find(Path top) throws java.io.IOException {
        return NestedRepositories.find(top, MountOwnership.pathOwner(top), runner);
    }

    @Test
    void findsNestedRepositoriesThatRunProgramsAndOnlyThose(@TempDir Path top) throws Exception {
        git(top, "init", "-q");
        // The top repository's own configuration is the workspace wall's business, not this scan's.
        git(top, "config", "core.fsmonitor", "touch /tmp/top");
        Path sub = Files.createDirectories(top.resolve("src/sub"));
        git(sub, "init", "-q");
        git(sub, "config", "core.fsmonitor", "touch /tmp/pwned");
        Path quiet = Files.createDirectories(top.resolve("quiet"));
        git(quiet, "init", "-q");
        git(quiet, "config", "core.fsmonitor", "false");
        git(quiet, "config", "alias.st", "status");
        // A .git file that points elsewhere (as a submodule's does), with an alias that runs a shell and a hook.
        Path elsewhere = Files.createDirectories(top.resolve("elsewhere"));
        git(elsewhere, "init", "-q", "--bare");
        git(elsewhere, "config", "alias.st", "!sh -c id");
        Files.writeString(elsewhere.resolve("hooks/post-checkout"), "#!/bin/sh\nid\n");
        Path pointer = Files.createDirectories(top.resolve("pointer"));
        Files.writeString(pointer.resolve(".git"), "gitdir: ../elsewhere\n");

        Map<Path, List<String>> found = find(top).stream()
                .collect(Collectors.toMap(NestedRepositories.Finding::repository, NestedRepositories.Finding::reasons));

        assertEquals(Map.of(sub, List.of("core.fsmonitor"), pointer, List.of("alias.st", "hooks/post-checkout")), found);
        String warning = find(top).stream()
                .filter(finding -> finding.repository().equals(sub)).findFirst().orElseThrow().warning();
        assertTrue(warning.contains(sub.toString()) && warning.contains("core.fsmonitor")
                && warning.contains("git config --file " + sub.resolve(".git/config")), warning);
    }

    @Test
    void theWarningShowsTheCagesNamesEscaped(@TempDir Path top) throws Exception {
        git(top, "init", "-q");
        // A folder name that would wipe the warning's line and print another in its place.
        Path sub = Files.createDirectories(top.resolve("x\r\u001b[2Kall clean\u202e"));
        git(sub, "init", "-q");
        git(sub, "config", "core.fsmonitor", "touch /tmp/pwned");

        String warning = find(top).get(0).warning();

        assertTrue(warning.contains("x\\r\\x1b[2Kall clean\\u202e"), warning);
        assertFalse(warning.contains("\r") || warning.contains("\u001b") || warning.contains("\u202e"), warning);
        // Positive control: the repository's own name holds the bytes a terminal would obey.
        assertTrue(find(top).get(0).repository().toString().contains("\u001b"));
    }

    @Test
    void namesWhatInTheMountsOwnGitFolderPointsGitAtOtherConfiguration(@TempDir Path top) throws Exception {
        git(top, "init", "-q");
        assertEquals(List.of(), find(top), "a plain checkout has nothing to name");
        Files.writeString(top.resolve(".git/commondir"), "../evil\n");
        Files.writeString(top.resolve(".git/config.worktree"), "[core]\n\tpager = sh -c id\n\tbare = false\n");

        List<NestedRepositories.Finding> found = find(top);

        assertEquals(1, found.size(), found.toString());
        assertEquals(top, found.get(0).repository());
        assertEquals(List.of(".git/commondir (git takes its config and hooks from ../evil)", ".git/config.worktree core.pager"),
                found.get(0).reasons());
    }

    @Test
    void knowsWhichKeysRunPrograms() {
        for (String key : List.of("core.hookspath", "core.sshcommand", "core.pager", "core.editor", "sequence.editor",
                "credential.helper", "credential.https://x.test.helper", "diff.evil.command", "diff.evil.textconv",
                "merge.evil.driver", "filter.lfs.smudge", "filter.x.process", "gpg.ssh.program", "include.path",
                "includeif.gitdir:/x.path", "pager.log", "uploadpack.packobjectshook")) {
            assertTrue(NestedRepositories.runsAProgram(key, "x"), key);
        }
        assertTrue(NestedRepositories.runsAProgram("core.fsmonitor", "./run-me"));
        assertTrue(NestedRepositories.runsAProgram("alias.x", " !sh"));
        for (String[] harmless : new String[][] {{"core.fsmonitor", "true"}, {"core.fsmonitor", "False"},
                {"alias.st", "status"}, {"user.name", "x"}, {"core.bare", "false"}, {"remote.origin.url", "x"}}) {
            assertFalse(NestedRepositories.runsAProgram(harmless[0], harmless[1]), String.join("=", harmless));
        }
    }
}
