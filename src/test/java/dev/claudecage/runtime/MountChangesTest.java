package dev.claudecage.runtime;

import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 18: what a cage changed in a writable mount, as the trail tells it; bounded, and never through a link. */
class MountChangesTest {

    private static final Instant T = Instant.parse("2026-12-07T10:00:00Z");
    private static final String EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final String HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    @TempDir
    Path dir;

    @Test
    void filesAddedChangedAndRemovedAreToldWithTheirSha256() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Files.writeString(workspace.resolve("kept.txt"), "same");
        Files.writeString(workspace.resolve("edited.txt"), "");
        Files.writeString(workspace.resolve("gone.txt"), "hello");
        MountChanges.Snapshot before = MountChanges.take(workspace, MountChanges.Limits.DEFAULT);

        Files.writeString(workspace.resolve("edited.txt"), "hello");
        Files.delete(workspace.resolve("gone.txt"));
        Files.createDirectories(workspace.resolve("src/deep"));
        Files.writeString(workspace.resolve("src/deep/new.js"), "");
        List<AuditEvent> lines = MountChanges.lines(T, "/workspace", before,
                MountChanges.take(workspace, MountChanges.Limits.DEFAULT), MountChanges.Limits.DEFAULT);

        assertEquals(List.of(
                "changed /workspace/edited.txt: sha256:" + HELLO + ", 5 bytes; it was sha256:" + EMPTY + ", 0 bytes",
                "removed /workspace/gone.txt: removed; it was sha256:" + HELLO + ", 5 bytes",
                "added /workspace/src/deep/new.js: sha256:" + EMPTY + ", 0 bytes"),
                lines.stream().map(line -> line.decision() + " " + line.reason()).toList());
        assertTrue(lines.stream().allMatch(line -> line.source().equals("files") && line.destination() == null));
        // A trail kept in the folder is left out of both sides: the launcher, not the cage, wrote it.
        assertEquals(List.of("/workspace/gone.txt: removed; it was sha256:" + HELLO + ", 5 bytes",
                        "/workspace/src/deep/new.js: sha256:" + EMPTY + ", 0 bytes"),
                MountChanges.lines(T, "/workspace", before.without("edited.txt"), MountChanges.take(workspace,
                        MountChanges.Limits.DEFAULT).without("edited.txt"), MountChanges.Limits.DEFAULT).stream()
                        .map(AuditEvent::reason).toList());
    }

    @Test
    void aLinkTheCagePlantedIsNotFollowedToTheHostFileItNames() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Path hostFile = Files.writeString(dir.resolve("host-secret"), "before");
        Path hostFolder = Files.createDirectory(dir.resolve("host-folder"));
        Files.writeString(hostFolder.resolve("inside"), "before");
        Files.createSymbolicLink(workspace.resolve("file-link"), hostFile);
        Files.createSymbolicLink(workspace.resolve("folder-link"), hostFolder);
        MountChanges.Snapshot before = MountChanges.take(workspace, MountChanges.Limits.DEFAULT);

        Files.writeString(hostFile, "after");
        Files.writeString(hostFolder.resolve("inside"), "after");
        MountChanges.Snapshot after = MountChanges.take(workspace, MountChanges.Limits.DEFAULT);

        assertEquals(Map.of(), before.files(), "a link was read as the file it names");
        assertEquals(List.of(), MountChanges.lines(T, "/workspace", before, after, MountChanges.Limits.DEFAULT));
        // Control: the same file, in the workspace itself, is read and its change told.
        Files.writeString(workspace.resolve("real"), "before");
        MountChanges.Snapshot withFile = MountChanges.take(workspace, MountChanges.Limits.DEFAULT);
        Files.writeString(workspace.resolve("real"), "after");
        assertEquals(1, MountChanges.lines(T, "/workspace", withFile, MountChanges.take(workspace,
                MountChanges.Limits.DEFAULT), MountChanges.Limits.DEFAULT).size());
    }

    @Test
    void aFolderPastTheLimitsIsComparedAsFarAsReadAndSaysSo() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        for (int i = 0; i < 5; i++) {
            Files.writeString(workspace.resolve("f" + i), "x");
        }
        MountChanges.Limits small = new MountChanges.Limits(100, 3, 1 << 20, 1);
        MountChanges.Snapshot before = MountChanges.take(workspace, small);
        assertTrue(before.capped());
        assertEquals(3, before.files().size());
        Files.writeString(workspace.resolve("f0"), "y");
        Files.writeString(workspace.resolve("f1"), "y");

        List<AuditEvent> lines = MountChanges.lines(T, "/workspace", before, MountChanges.take(workspace, small), small);

        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).reason().startsWith("/workspace/f0: "), lines.toString());
        assertEquals("capped", lines.get(1).decision());
        assertEquals("/workspace: 1 more changes not listed (the trail lists 1 a mount); the folder holds more than the "
                + "3 files or 100 names a snapshot looks at: only the files read before the cage started and after it ended were "
                + "compared, the first in path order; a file beyond them may have changed unseen", lines.get(1).reason());
    }

    @Test
    void aTreeOfEmptyFoldersIsWalkedOnlyAsFarAsTheNamesBound() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Path deep = workspace;
        for (int i = 0; i < 50; i++) {
            deep = Files.createDirectory(deep.resolve("d"));
        }
        Files.writeString(deep.resolve("at-the-bottom"), "x");
        MountChanges.Snapshot bounded = MountChanges.take(workspace, new MountChanges.Limits(20, 10, 1000, 10));
        assertTrue(bounded.capped());
        assertEquals(Map.of(), bounded.files());
        // Control: with room for every name, the file at the bottom is read.
        assertEquals(1, MountChanges.take(workspace, new MountChanges.Limits(60, 10, 1000, 10)).files().size());
    }

    @Test
    void aFilePastTheBytesReadIsComparedBySizeAndTheRestStillByHash() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Files.write(workspace.resolve("a-big"), new byte[4096]);
        Files.writeString(workspace.resolve("b-small"), "");
        MountChanges.Limits limits = new MountChanges.Limits(100, 10, 1000, 10);
        MountChanges.Snapshot before = MountChanges.take(workspace, limits);
        assertFalse(before.capped());
        assertEquals(new MountChanges.FileState(4096, null), before.files().get("a-big"));
        assertEquals(new MountChanges.FileState(0, EMPTY), before.files().get("b-small"));
        Files.write(workspace.resolve("a-big"), new byte[4097]);
        Files.writeString(workspace.resolve("b-small"), "hello");

        List<AuditEvent> lines = MountChanges.lines(T, "/workspace", before, MountChanges.take(workspace, limits), limits);

        assertEquals(List.of("/workspace/a-big: not hashed (past the bytes read), 4097 bytes; it was not hashed (past the bytes "
                        + "read), 4096 bytes",
                "/workspace/b-small: sha256:" + HELLO + ", 5 bytes; it was sha256:" + EMPTY + ", 0 bytes",
                "/workspace: files past the 1000b a snapshot reads were compared by size only, so a change that kept a "
                        + "file's size is not seen there"),
                lines.stream().map(AuditEvent::reason).toList());
    }
}
