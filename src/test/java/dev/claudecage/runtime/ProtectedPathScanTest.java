package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ClaudeConfig;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.config.Mode;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.config.UsernsPool;
import dev.claudecage.oci.WorkspaceWall.Guard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProtectedPathScanTest {

    @TempDir
    Path repo;

    private CageConfig config(List<MountSpec> mounts, String... paths) {
        return new CageConfig(Mode.CLI, true, 5, 2, 1L << 30, NetworkMode.NONE, "1.1.1.1", List.of(), true, "default",
                1024, 1000, 1000, "cli", "runc", null, mounts, null, 1L << 30, List.of(),
                new EgressSettings(Map.of(), 1L << 30, 64, URI.create("https://api.anthropic.com"), "10.213.0.0/16",
                        "fd63:6167:6500::/48"), List.of(),
                List.of(paths).stream().map(ProtectedPath::parse).toList(), false, Map.of(), true, null, ClaudeConfig.INHERIT,
                UsernsPool.ACCOUNT);
    }

    private CageConfig workspace(String... paths) {
        return config(List.of(new MountSpec(repo, "/workspace", false)), paths);
    }

    @Test
    void existingPathsAreCoveredReadOnlyAndTheFoldersOnTheWayPinned() throws Exception {
        Files.createDirectories(repo.resolve(".git/hooks"));
        Files.writeString(repo.resolve(".git/config"), "[core]\n");

        ProtectedPathScan.Result result = ProtectedPathScan.scan(workspace(".git/hooks/", ".git/config"));

        // .git/config protected brings the two files that point git at other configuration; missing, each
        // gets a file that leaves git as it was (git refuses a folder there).
        assertEquals(List.of(new Guard("/workspace", ".git", repo.resolve(".git"), false),
                new Guard("/workspace", ".git/commondir", repo.resolve(".git/commondir"), true),
                new Guard("/workspace", ".git/config", repo.resolve(".git/config"), true),
                new Guard("/workspace", ".git/config.worktree", repo.resolve(".git/config.worktree"), true),
                new Guard("/workspace", ".git/hooks", repo.resolve(".git/hooks"), true)), result.wall().guards());
        assertEquals(List.of(new Placeholders.Placeholder(repo, ".git/commondir", ".\n"),
                new Placeholders.Placeholder(repo, ".git/config.worktree", "")), result.placeholders());
        assertFalse(Files.exists(repo.resolve(".git/commondir")), "scanning makes nothing");
    }

    @Test
    void withoutGitConfigProtectedNothingIsImplied() throws Exception {
        Files.createDirectories(repo.resolve(".git/hooks"));

        ProtectedPathScan.Result result = ProtectedPathScan.scan(workspace(".git/hooks/"));

        assertEquals(List.of(".git", ".git/hooks"), result.wall().guards().stream().map(Guard::relative).toList());
    }

    @Test
    void aFilePlaceholderIsRemovedOnlyAsItWasMade(@TempDir Path state) throws Exception {
        Files.createDirectories(repo.resolve(".git"));
        Path record = state.resolve(Placeholders.RECORD);
        Placeholders.create(List.of(new Placeholders.Placeholder(repo, ".git/commondir", ".\n"),
                new Placeholders.Placeholder(repo, ".git/config.worktree", "")), record);
        assertEquals(".\n", Files.readString(repo.resolve(".git/commondir")));
        assertTrue(Files.isRegularFile(repo.resolve(".git/config.worktree")));
        Files.writeString(repo.resolve(".git/config.worktree"), "[core]\n\tpager = less\n");

        List<String> problems = Placeholders.removeRecorded(record);

        assertEquals(List.of("kept " + repo.resolve(".git/config.worktree") + ": it is no longer the placeholder file "
                + "claude-cage made"), problems);
        assertFalse(Files.exists(repo.resolve(".git/commondir")));
    }

    @Test
    void theFirstMissingNameOnTheWayGetsAPlaceholder() throws Exception {
        ProtectedPathScan.Result result = ProtectedPathScan.scan(
                workspace(".envrc", ".vscode/", ".claude/settings.json", ".claude/commands/"));

        assertEquals(List.of(new Placeholders.Placeholder(repo, ".envrc"),
                new Placeholders.Placeholder(repo, ".vscode"),
                new Placeholders.Placeholder(repo, ".claude")), result.placeholders());
        assertEquals(List.of(".claude", ".envrc", ".vscode"),
                result.wall().guards().stream().map(Guard::relative).toList());
        assertTrue(result.wall().guards().stream().allMatch(Guard::readOnly));
    }

    @Test
    void aFileWhereAFolderWasExpectedIsCovered() throws Exception {
        Files.writeString(repo.resolve(".git"), "gitdir: /elsewhere/.git/worktrees/x\n");

        ProtectedPathScan.Result result = ProtectedPathScan.scan(workspace(".git/hooks/", ".git/config"));

        assertEquals(List.of(new Guard("/workspace", ".git", repo.resolve(".git"), true)), result.wall().guards());
    }

    @Test
    void aSymbolicLinkOnTheWayIsRefused() throws Exception {
        Files.createDirectories(repo.resolve("real-git"));
        Files.createSymbolicLink(repo.resolve(".git"), repo.resolve("real-git"));

        CageException refused = assertThrows(CageException.class, () -> ProtectedPathScan.scan(workspace(".git/config")));

        assertTrue(refused.getMessage().contains("symbolic link " + repo.resolve(".git")), refused.getMessage());
    }

    @Test
    void aHardLinkedProtectedFileIsRefused() throws Exception {
        Files.writeString(repo.resolve(".envrc"), "x\n");
        Files.createLink(repo.resolve("alias"), repo.resolve(".envrc"));

        assertThrows(CageException.class, () -> ProtectedPathScan.scan(workspace(".envrc")));
    }

    @Test
    void readOnlyMountsAndFilesNeedNoGuards() throws Exception {
        Path file = Files.writeString(repo.resolve("notes.txt"), "x\n");
        CageConfig config = config(List.of(new MountSpec(repo, "/docs", true), new MountSpec(file, "/notes.txt", false)),
                ".envrc");

        ProtectedPathScan.Result result = ProtectedPathScan.scan(config);

        assertEquals(List.of(), result.wall().guards());
        assertEquals(List.of(), result.placeholders());
    }

    @Test
    void placeholdersAreRecordedMadeAndRemovedUnlessTakenOver(@TempDir Path state) throws Exception {
        Path record = state.resolve(Placeholders.RECORD);
        List<Placeholders.Placeholder> planned = List.of(new Placeholders.Placeholder(repo, ".envrc"),
                new Placeholders.Placeholder(repo, ".vscode"),
                new Placeholders.Placeholder(repo, ".mcp.json"));

        Placeholders.create(planned, record);
        assertTrue(Files.isDirectory(repo.resolve(".envrc")) && Files.isDirectory(repo.resolve(".vscode")));
        Files.writeString(repo.resolve(".mcp.json").resolve("taken-over"), "written on the host meanwhile\n");

        List<String> problems = Placeholders.removeRecorded(record);

        assertEquals(List.of("kept " + repo.resolve(".mcp.json") + ": something on the host put files into the "
                + "placeholder folder"), problems);
        assertFalse(Files.exists(repo.resolve(".envrc")));
        assertFalse(Files.exists(repo.resolve(".vscode")));
        assertFalse(Files.exists(record));
        assertEquals(List.of(), Placeholders.removeRecorded(record), "a second teardown finds nothing to do");
    }

    @Test
    void placeholdersAreMadeAndRemovedWithoutFollowingALinkTheCageLeft(@TempDir Path host) throws Exception {
        // The host folder a link would lead to, holding what the placeholder would be there.
        Path hostGit = Files.createDirectory(host.resolve("git"));
        Path hostCommondir = Files.writeString(hostGit.resolve("commondir"), ".\n");
        Path record = host.resolve(Placeholders.RECORD);
        Files.createSymbolicLink(repo.resolve(".git"), hostGit);

        CageException refused = assertThrows(CageException.class, () -> Placeholders.create(
                List.of(new Placeholders.Placeholder(repo, ".git/config.worktree", "")), record));
        assertTrue(refused.getMessage().contains("symbolic link"), refused.getMessage());
        assertFalse(Files.exists(hostGit.resolve("config.worktree")), "made through the link");

        // A record of a placeholder whose folder the cage swapped for a link: removal does not follow it.
        Files.delete(repo.resolve(".git"));
        Files.createDirectory(repo.resolve(".git"));
        Placeholders.create(List.of(new Placeholders.Placeholder(repo, ".git/commondir", ".\n")), record);
        Files.delete(repo.resolve(".git/commondir"));
        Files.delete(repo.resolve(".git"));
        Files.createSymbolicLink(repo.resolve(".git"), hostGit);
        List<String> problems = Placeholders.removeRecorded(record);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("symbolic link"), problems.toString());
        assertTrue(Files.exists(hostCommondir), "removed through the link");

        // Positive control: the plain file API, given the same link, reaches the host folder.
        Files.writeString(repo.resolve(".git/config.worktree"), "");
        assertTrue(Files.exists(hostGit.resolve("config.worktree")));
        Files.delete(repo.resolve(".git/commondir"));
        assertFalse(Files.exists(hostCommondir));
    }
}
