package dev.claudecage.runtime;

import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18: what a cage changed in a writable mount, as the trail tells it: found by inode, size and times
 * (the ctime, which the cage cannot set), hashed only where something changed; bounded, and never through a link.
 */
class MountChangesTest {

    private static final Instant T = Instant.parse("2026-12-07T10:00:00Z");
    private static final String EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final String HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    private static final String AFTER = "f39592393ef0859cb196a52693d2cea00fb2df784b3c04ae54aa7cadb8e562f8";
    private static final String WORLD = "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";
    private static final MountChanges.Limits LIMITS = MountChanges.Limits.DEFAULT;

    @TempDir
    Path dir;

    private static List<String> told(List<AuditEvent> lines) {
        return lines.stream().map(line -> line.decision() + " " + line.reason()).toList();
    }

    private static List<AuditEvent> changes(Path workspace, MountChanges.Snapshot before, MountChanges.Limits limits)
            throws Exception {
        return MountChanges.lines(T, "/workspace", before, MountChanges.after(workspace, before, null, limits), limits);
    }

    @Test
    void filesAddedChangedAndRemovedAreToldWithTheSha256OfWhatTheCageLeft() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Files.writeString(workspace.resolve("kept.txt"), "same");
        Files.writeString(workspace.resolve("edited.txt"), "");
        Files.writeString(workspace.resolve("gone.txt"), "hello");
        MountChanges.Snapshot before = MountChanges.before(workspace, LIMITS);
        assertTrue(before.files().values().stream().allMatch(file -> file.content() == null),
                "before the cage, nothing is read");

        Files.writeString(workspace.resolve("edited.txt"), "hello");
        Files.delete(workspace.resolve("gone.txt"));
        Files.createDirectories(workspace.resolve("src/deep"));
        Files.writeString(workspace.resolve("src/deep/new.js"), "");
        MountChanges.Snapshot after = MountChanges.after(workspace, before, null, LIMITS);
        List<AuditEvent> lines = MountChanges.lines(T, "/workspace", before, after, LIMITS);

        assertEquals(List.of(
                "changed /workspace/edited.txt: sha256:" + HELLO + ", 5 bytes; it was 0 bytes",
                "removed /workspace/gone.txt: removed; it was 5 bytes",
                "added /workspace/src/deep/new.js: sha256:" + EMPTY + ", 0 bytes"), told(lines));
        assertTrue(lines.stream().allMatch(line -> line.source().equals("files") && line.destination() == null));
        assertNull(after.files().get("kept.txt").content(), "an unchanged file is not read after the cage either");
        // A trail kept in the folder is left out of both sides, unread: the launcher, not the cage, wrote it.
        MountChanges.Snapshot withoutTrail = MountChanges.after(workspace, before.without("edited.txt"), "edited.txt",
                LIMITS);
        assertFalse(withoutTrail.files().containsKey("edited.txt"));
        assertEquals(List.of("/workspace/gone.txt: removed; it was 5 bytes",
                        "/workspace/src/deep/new.js: sha256:" + EMPTY + ", 0 bytes"),
                MountChanges.lines(T, "/workspace", before.without("edited.txt"), withoutTrail, LIMITS).stream()
                        .map(AuditEvent::reason).toList());
    }

    @Test
    void aChangeThatKeepsTheSizeAndSetsTheMtimeBackIsStillSeen() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Path edited = Files.writeString(workspace.resolve("edited.txt"), "hello");
        Path replaced = Files.writeString(workspace.resolve("replaced.txt"), "hello");
        Path untouched = Files.writeString(workspace.resolve("untouched.txt"), "hello");
        FileTime old = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
        for (Path file : List.of(edited, replaced, untouched)) {
            Files.setLastModifiedTime(file, old);
        }
        MountChanges.Snapshot before = MountChanges.before(workspace, LIMITS);

        // What the cage can do: the same number of bytes, then its mtime set back (touch -d); and a file of the
        // same size and mtime renamed over another, which is another inode.
        Files.writeString(edited, "world");
        Files.setLastModifiedTime(edited, old);
        Path twin = Files.writeString(workspace.resolve(".twin"), "world");
        Files.setLastModifiedTime(twin, old);
        Files.move(twin, replaced, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertEquals(Files.size(untouched), Files.size(edited));
        assertEquals(Files.getLastModifiedTime(untouched), Files.getLastModifiedTime(edited));

        assertEquals(List.of(
                "changed /workspace/edited.txt: sha256:" + WORLD + ", 5 bytes; it was 5 bytes",
                "changed /workspace/replaced.txt: sha256:" + WORLD + ", 5 bytes; it was 5 bytes"),
                told(changes(workspace, before, LIMITS)), "the control, untouched.txt, is not told");
    }

    @Test
    void aLinkTheCagePlantedIsNotFollowedToTheHostFileItNames() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Path hostFile = Files.writeString(dir.resolve("host-secret"), "before");
        Path hostFolder = Files.createDirectory(dir.resolve("host-folder"));
        Files.writeString(hostFolder.resolve("inside"), "before");
        MountChanges.Snapshot empty = MountChanges.before(workspace, LIMITS);
        Files.createSymbolicLink(workspace.resolve("file-link"), hostFile);
        Files.createSymbolicLink(workspace.resolve("folder-link"), hostFolder);
        MountChanges.Snapshot before = MountChanges.before(workspace, LIMITS);

        Files.writeString(hostFile, "after");
        Files.writeString(hostFolder.resolve("inside"), "after");
        MountChanges.Snapshot after = MountChanges.after(workspace, empty, null, LIMITS);

        assertEquals(Map.of(), before.files(), "a link was looked at as the file it names");
        assertEquals(Map.of(), after.files(), "a link the cage made was read as the file it names");
        assertEquals(List.of(), MountChanges.lines(T, "/workspace", empty, after, LIMITS));
        // Control: the same file, in the workspace itself, is read and its change told.
        Files.writeString(workspace.resolve("real"), "before");
        MountChanges.Snapshot withFile = MountChanges.before(workspace, LIMITS);
        Files.writeString(workspace.resolve("real"), "after");
        assertEquals(List.of("changed /workspace/real: sha256:" + AFTER + ", 5 bytes; it was 6 bytes"),
                told(changes(workspace, withFile, LIMITS)));
    }

    @Test
    void aFolderPastTheNamesLookedAtIsComparedAsFarAsSeenAndSaysSo() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        for (int i = 0; i < 5; i++) {
            Files.writeString(workspace.resolve("f" + i), "x");
        }
        MountChanges.Limits small = new MountChanges.Limits(3, 10, 1 << 20, 1);
        MountChanges.Snapshot before = MountChanges.before(workspace, small);
        assertTrue(before.capped());
        assertEquals(3, before.files().size());
        Files.writeString(workspace.resolve("f0"), "yy");
        Files.writeString(workspace.resolve("f1"), "yy");

        List<AuditEvent> lines = changes(workspace, before, small);

        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).reason().startsWith("/workspace/f0: "), lines.toString());
        assertEquals("capped", lines.get(1).decision());
        assertEquals("/workspace: 1 more changes not listed (the trail lists 1 a mount); the folder holds more than the "
                + "3 names a snapshot looks at: only the files seen before the cage started and after it ended were "
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
        MountChanges.Snapshot bounded = MountChanges.before(workspace, new MountChanges.Limits(20, 10, 1000, 10));
        assertTrue(bounded.capped());
        assertEquals(Map.of(), bounded.files());
        // Control: with room for every name, the file at the bottom is seen.
        assertEquals(1, MountChanges.before(workspace, new MountChanges.Limits(60, 10, 1000, 10)).files().size());
    }

    @Test
    void changedFilesPastTheFilesOrBytesHashedAreToldBySizeAndTheRestStillByHash() throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Files.write(workspace.resolve("a-big"), new byte[4096]);
        Files.writeString(workspace.resolve("b-small"), "");
        for (int i = 0; i < 3; i++) {
            Files.writeString(workspace.resolve("c" + i), "");
        }
        MountChanges.Limits limits = new MountChanges.Limits(100, 2, 1000, 10);
        MountChanges.Snapshot before = MountChanges.before(workspace, limits);
        assertFalse(before.capped());
        Files.write(workspace.resolve("a-big"), new byte[4097]);
        Files.writeString(workspace.resolve("b-small"), "hello");
        for (int i = 0; i < 3; i++) {
            Files.writeString(workspace.resolve("c" + i), "hello");
        }
        MountChanges.Snapshot after = MountChanges.after(workspace, before, null, limits);

        // The walk goes in byte order of the names: a-big is past the bytes, b-small and c0 are the two hashed.
        assertEquals(new MountChanges.Content(4097, null), after.files().get("a-big").content());
        assertNotNull(after.files().get("c0").content().sha256());
        assertEquals(List.of("/workspace/a-big: not hashed (past what a snapshot reads), 4097 bytes; it was 4096 bytes",
                        "/workspace/b-small: sha256:" + HELLO + ", 5 bytes; it was 0 bytes",
                        "/workspace/c0: sha256:" + HELLO + ", 5 bytes; it was 0 bytes",
                        "/workspace/c1: not hashed (past what a snapshot reads), 5 bytes; it was 0 bytes",
                        "/workspace/c2: not hashed (past what a snapshot reads), 5 bytes; it was 0 bytes",
                        "/workspace: 3 changed files past the 2 files or 1000b a snapshot hashes were not hashed: only "
                                + "their size is told"),
                MountChanges.lines(T, "/workspace", before, after, limits).stream().map(AuditEvent::reason).toList());
    }
}
