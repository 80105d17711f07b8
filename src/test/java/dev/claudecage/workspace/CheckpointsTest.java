package dev.claudecage.workspace;

import dev.claudecage.UserInputException;
import dev.claudecage.host.Host;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints with real git and real files: the copy is a folder the test writes as the agent
 * would (links, odd names, files swapped for folders), and what matters is what the host reads
 * and writes there. The whole session, with a running cage, is CheckpointIT.
 */
class CheckpointsTest {

    private final ProcessRunner runner = new ProcessRunner(false);

    @TempDir
    Path temp;
    private Path copy;
    private Checkpoints checkpoints;

    @BeforeEach
    void copy() throws Exception {
        copy = Files.createDirectories(temp.resolve(WorkspaceClone.COPY));
        Files.createDirectories(copy.resolve(".git"));
        Files.writeString(copy.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        checkpoints = new Checkpoints(temp, new HostGit(runner, Host.effectiveUid(), Host.effectiveGid(), temp));
    }

    @Test
    void rollbackRestoresChangedAndDeletedFilesAndRemovesNewOnes() throws Exception {
        write("README", "first\n");
        write("src/main.c", "int main;\n");
        Files.setPosixFilePermissions(write("run.sh", "#!/bin/sh\n"), PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(1, checkpoints.take("start", false).checkpoint().orElseThrow().id());

        write("README", "ruined\n");
        Files.delete(copy.resolve("src/main.c"));
        write("new/deep/file", "made since\n");
        write("extra", "made since\n");
        Checkpoints.RolledBack rolledBack = checkpoints.rollback(1);

        assertEquals("first\n", read("README"));
        assertEquals("int main;\n", read("src/main.c"));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy.resolve("run.sh"))));
        assertFalse(Files.exists(copy.resolve("new")));
        assertFalse(Files.exists(copy.resolve("extra")));
        assertEquals(2, rolledBack.saved().orElseThrow().id(), "the state before the rollback is kept");
        assertEquals("ref: refs/heads/main\n", read(".git/HEAD"), "the copy's .git is left alone");
    }

    @Test
    void theStateBeforeARollbackCanBeRestoredInTurn() throws Exception {
        write("notes", "one\n");
        checkpoints.take("one", false);
        write("notes", "two\n");
        int saved = checkpoints.rollback(1).saved().orElseThrow().id();

        checkpoints.rollback(saved);

        assertEquals("two\n", read("notes"));
    }

    @Test
    void attack_aPlantedLinkToAHostFileIsRecordedAsALinkAndNeverRead() throws Exception {
        Path secret = Files.writeString(temp.resolve("host-secret"), "the host's secret\n");
        Files.createSymbolicLink(copy.resolve("loot"), secret);
        write("plain", "mine\n");

        checkpoints.take("with a link", false);

        Map<String, CopySnapshot.Entry> tree = checkpointTree(1);
        assertEquals(CopySnapshot.SYMLINK, tree.get("loot").mode());
        assertEquals(secret.toString(), git("cat-file", "blob", tree.get("loot").id()));
        // Positive control: a file's content is what git holds.
        assertEquals("mine\n", git("cat-file", "blob", tree.get("plain").id()));
        assertFalse(git("cat-file", "--batch-all-objects", "--batch").contains("the host's secret"),
                "the host file's content is nowhere in the checkpoints");
    }

    @Test
    void attack_rollbackWritesThroughNoLinkPlantedWhereAFolderWas() throws Exception {
        Path hostFolder = Files.createDirectories(temp.resolve("host-folder"));
        write("src/main.c", "int main;\n");
        checkpoints.take("start", false);
        deleteTree(copy.resolve("src"));
        // The agent replaces the folder with a link to a host folder: a rollback that followed it
        // would write src/main.c there.
        Files.createSymbolicLink(copy.resolve("src"), hostFolder);

        checkpoints.rollback(1);

        assertTrue(Files.isDirectory(copy.resolve("src"), LinkOption.NOFOLLOW_LINKS), "the link is replaced by a folder");
        assertEquals("int main;\n", read("src/main.c"));
        assertFalse(Files.exists(hostFolder.resolve("main.c")), "nothing written through the link");
        assertTrue(Files.isDirectory(hostFolder), "the link's target is not removed");
    }

    @Test
    void attack_rollbackRemovesAPlantedLinkWithoutTouchingItsTarget() throws Exception {
        Path secret = Files.writeString(temp.resolve("host-file"), "keep me\n");
        write("a", "a\n");
        checkpoints.take("start", false);
        Files.createSymbolicLink(copy.resolve("link"), secret);

        checkpoints.rollback(1);

        assertFalse(Files.exists(copy.resolve("link"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("keep me\n", Files.readString(secret));
    }

    @Test
    void linksInTheCheckpointAreRestoredAsLinks() throws Exception {
        Files.createSymbolicLink(copy.resolve("current"), Path.of("releases/1"));
        checkpoints.take("link", false);
        Files.delete(copy.resolve("current"));
        write("current", "a file now\n");

        checkpoints.rollback(1);

        assertEquals(Path.of("releases/1"), Files.readSymbolicLink(copy.resolve("current")));
    }

    @Test
    void namesThatEndLinesOrQuoteAreRecordedAndRestored() throws Exception {
        write("line\nbreak \"quoted\" \\ tâche", "odd\n");
        checkpoints.take("odd names", false);
        Files.delete(copy.resolve("line\nbreak \"quoted\" \\ tâche"));

        checkpoints.rollback(1);

        assertEquals("odd\n", read("line\nbreak \"quoted\" \\ tâche"));
    }

    @Test
    void aNestedRepositoryFolderAndTheCopysOwnGitAreLeftOut() throws Exception {
        write("vendor/lib/.git/config", "[core]\n");
        write("vendor/lib/code", "code\n");

        Checkpoints.Taken taken = checkpoints.take("nested", false);

        assertEquals(Set.of("vendor/lib/code"), checkpointTree(1).keySet());
        assertTrue(taken.leftOut().stream().anyMatch(line -> line.startsWith("vendor/lib/.git:")), taken.leftOut().toString());
        assertTrue(taken.leftOut().stream().anyMatch(line -> line.startsWith(".git:")), taken.leftOut().toString());
    }

    @Test
    void anUnchangedCopyMakesNoCheckpointWhenOnlyChangesCount() throws Exception {
        write("a", "a\n");
        checkpoints.take("first", true);

        assertTrue(checkpoints.take("again", true).checkpoint().isEmpty());
        write("a", "b\n");
        assertEquals(1, checkpoints.take("changed", true).checkpoint().orElseThrow().filesChanged());

        List<Checkpoints.Checkpoint> listed = checkpoints.list();
        assertEquals(List.of(1, 2), listed.stream().map(Checkpoints.Checkpoint::id).toList());
        assertEquals(List.of("first", "changed"), listed.stream().map(Checkpoints.Checkpoint::message).toList());
    }

    @Test
    void diffSinceShowsTheChangesOfTheWorkTree() throws Exception {
        write("a", "before\n");
        checkpoints.take("first", false);
        write("a", "after\n");

        String diff = checkpoints.diffSince(1, false);

        assertTrue(diff.contains("-before\n+after\n"), diff);
        assertEquals(1, checkpoints.list().size(), "diff --since makes no checkpoint");
    }

    @Test
    void anUnknownCheckpointIsAnErrorThatSaysWhichExist() throws Exception {
        write("a", "a\n");
        checkpoints.take("first", false);

        UserInputException unknown = assertThrows(UserInputException.class, () -> checkpoints.rollback(7));

        assertTrue(unknown.getMessage().contains("no checkpoint 7") && unknown.getMessage().contains("1 to 1"),
                unknown.getMessage());
    }

    @Test
    void aMessageWithControlCharactersIsRefused() {
        assertThrows(UserInputException.class, () -> checkpoints.take("one\u001b[2Ktwo", false));
    }

    // ---- the pure parts

    @Test
    void pathsAreQuotedSoThatNoNameEndsALineOfTheStream() {
        assertEquals("\"a\\\"b\\\\c\\012d\\303\\242\"",
                new String(Checkpoints.quoted("a\"b\\c\nd\u00e2"), StandardCharsets.US_ASCII));
    }

    @Test
    void blobIdsAreGits() {
        // git hash-object of "hello\n"
        assertEquals("ce013625030ba8dba906f756967f9e9ca394464a",
                CopySnapshot.blobId("hello\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theCommitStreamNamesItsParentAndTheWholeTree() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Checkpoints.writeCommit(out, "refs/checkpoints/2", Instant.ofEpochSecond(1700000000), "msg", "abc",
                new TreeMap<>(Map.of("x", new CopySnapshot.Entry("100644", "ce01"))));
        assertEquals("commit refs/checkpoints/2\ncommitter claude-cage <claude-cage@localhost> 1700000000 +0000\n"
                + "data 3\nmsg\nfrom abc\ndeleteall\nM 100644 ce01 \"x\"\n\ndone\n", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theListIsReadFromForEachRef() {
        String output = "refs/checkpoints/10\0c10\0001700000600\0later\n\nFiles-changed: 3\n\0\n"
                + "refs/checkpoints/9\0c9\0001700000000\0first\n\nFiles-changed: 12\n\0\n";
        List<Checkpoints.Checkpoint> listed = Checkpoints.parseList(output);
        assertEquals(List.of(new Checkpoints.Checkpoint(9, "c9", Instant.ofEpochSecond(1700000000), "first", 12),
                new Checkpoints.Checkpoint(10, "c10", Instant.ofEpochSecond(1700000600), "later", 3)), listed);
    }

    @Test
    void aRollbackPlanRemovesWhatIsInTheWayOnceAndWritesWhatDiffers() {
        CopySnapshot.Entry same = new CopySnapshot.Entry("100644", "1");
        Map<String, CopySnapshot.Entry> checkpoint = Map.of("keep", same, "dir/file", same, "was-a-folder", same,
                "needs/folder/f", same);
        CopySnapshot.Tree now = new CopySnapshot.Tree(new TreeMap<>(Map.of("keep", same, "dir/file",
                new CopySnapshot.Entry("100644", "2"), "new/a", same, "new/b/c", same, "was-a-folder/x", same,
                "needs", new CopySnapshot.Entry("120000", "3"), "a-b", same)),
                new java.util.TreeSet<>(Set.of("dir", "new", "new/b", "was-a-folder")), List.of());

        RollbackPlan plan = RollbackPlan.between(checkpoint, now);

        assertEquals(List.of("a-b", "needs", "new", "was-a-folder"), plan.removals());
        assertEquals(Set.of("needs", "needs/folder"), plan.folders());
        assertEquals(Set.of("dir/file", "was-a-folder", "needs/folder/f"), plan.writes().keySet());
    }

    // ---- helpers

    private Path write(String relative, String content) throws Exception {
        Path file = copy.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, content);
    }

    private String read(String relative) throws Exception {
        return Files.readString(copy.resolve(relative));
    }

    private Map<String, CopySnapshot.Entry> checkpointTree(int id) {
        return Checkpoints.parseTree(git("ls-tree", "-r", "-z", "--full-tree", "refs/checkpoints/" + id));
    }

    private String git(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("git", "--git-dir=" + temp.resolve(Checkpoints.REPOSITORY)));
        command.addAll(List.of(args));
        return runner.runWithInput(command, java.time.Duration.ofSeconds(30), new byte[0]).stdout();
    }

    private static void deleteTree(Path tree) throws Exception {
        try (var all = Files.walk(tree)) {
            for (Path path : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
