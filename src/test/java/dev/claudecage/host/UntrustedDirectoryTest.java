package dev.claudecage.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host side's one way into a folder the cage can write. Each refusal is checked against a
 * file outside the folder ("the host file") that a followed link would reach; the positive
 * controls show that the plain file API, given the same links, does reach it.
 */
class UntrustedDirectoryTest {

    @TempDir
    Path dir;

    private Path workspace;
    private Path hostFile;

    private void arrange() throws IOException {
        workspace = Files.createDirectory(dir.resolve("workspace"));
        hostFile = Files.writeString(dir.resolve("host-file"), "host\n");
    }

    @Test
    void appendCreatesAPrivateFileAndAppendsToIt() throws IOException {
        arrange();
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            for (String line : new String[] {"one\n", "two\n"}) {
                try (OutputStream out = folder.openAppend("audit.jsonl", 0600)) {
                    out.write(line.getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        assertEquals("one\ntwo\n", Files.readString(workspace.resolve("audit.jsonl")));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(workspace.resolve("audit.jsonl"))));
    }

    @Test
    void appendRefusesALinkTheCagePlantedAsTheLastName() throws IOException {
        arrange();
        Path link = Files.createSymbolicLink(workspace.resolve("audit.jsonl"), hostFile);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            FileSystemException refused = assertThrows(FileSystemException.class, () -> folder.openAppend("audit.jsonl", 0600));
            assertTrue(refused.getMessage().contains("symbolic link"), refused.getMessage());
        }
        assertEquals("host\n", Files.readString(hostFile));
        // Positive control: the plain API writes through the same link.
        Files.writeString(link, "x", StandardOpenOption.APPEND);
        assertEquals("host\nx", Files.readString(hostFile));
    }

    @Test
    void appendRefusesALinkOnTheWay() throws IOException {
        arrange();
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Files.createSymbolicLink(workspace.resolve("logs"), elsewhere);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            assertThrows(FileSystemException.class, () -> folder.openAppend("logs/audit.jsonl", 0600));
            assertThrows(FileSystemException.class, () -> folder.createDirectory("logs/new", 0700));
            assertThrows(FileSystemException.class, () -> folder.stat("logs/anything"));
        }
        assertFalse(Files.exists(elsewhere.resolve("audit.jsonl")));
        assertFalse(Files.exists(elsewhere.resolve("new")));
        // Positive control: the plain API creates the file through the link.
        Files.writeString(workspace.resolve("logs/audit.jsonl"), "x");
        assertTrue(Files.exists(elsewhere.resolve("audit.jsonl")));
    }

    @Test
    void appendRefusesAHardLinkAndAFifoWithoutBlocking() throws IOException, InterruptedException {
        arrange();
        Path inside = Files.writeString(workspace.resolve("inside"), "mine\n");
        Files.createLink(workspace.resolve("audit.jsonl"), inside);
        Process mkfifo = new ProcessBuilder("mkfifo", workspace.resolve("pipe").toString()).start();
        assertEquals(0, mkfifo.waitFor());
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            FileSystemException linked = assertThrows(FileSystemException.class, () -> folder.openAppend("audit.jsonl", 0600));
            assertTrue(linked.getMessage().contains("2 hard links"), linked.getMessage());
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                assertThrows(FileSystemException.class, () -> folder.openAppend("pipe", 0600));
                assertThrows(FileSystemException.class, () -> folder.readFile("pipe", 100));
            });
        }
        assertEquals("mine\n", Files.readString(inside));
    }

    @Test
    void noWayOutByDotDotOrAnAbsoluteName() throws IOException {
        arrange();
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            assertThrows(FileSystemException.class, () -> folder.openAppend("../host-file", 0600));
            assertThrows(FileSystemException.class, () -> folder.openAppend("/etc/passwd", 0600));
            assertThrows(FileSystemException.class, () -> folder.readFile("a/../../host-file", 100));
        }
        assertEquals("host\n", Files.readString(hostFile));
    }

    @Test
    void theFolderItselfMustNotBeALink() throws IOException {
        arrange();
        Path link = Files.createSymbolicLink(dir.resolve("link"), workspace);
        assertThrows(FileSystemException.class, () -> UntrustedDirectory.open(link));
    }

    @Test
    void createFileNeverWritesThroughAnExistingName() throws IOException {
        arrange();
        Files.createSymbolicLink(workspace.resolve(".claude.json"), hostFile);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            assertThrows(FileAlreadyExistsException.class,
                    () -> folder.createFile(".claude.json", "{}".getBytes(StandardCharsets.UTF_8), 0600));
            folder.createFile("fresh", "new\n".getBytes(StandardCharsets.UTF_8), 0640);
        }
        assertEquals("host\n", Files.readString(hostFile));
        assertEquals("new\n", Files.readString(workspace.resolve("fresh")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(workspace.resolve("fresh"))));
    }

    @Test
    void replaceFileReplacesALinkInsteadOfWritingWhereItPoints() throws IOException {
        arrange();
        Files.createSymbolicLink(workspace.resolve(".claude.json"), hostFile);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            folder.replaceFile(".claude.json", "{}".getBytes(StandardCharsets.UTF_8), 0600, 4711, 4712);
        }
        Path replaced = workspace.resolve(".claude.json");
        assertFalse(Files.isSymbolicLink(replaced));
        assertEquals("{}", Files.readString(replaced));
        assertEquals(4711, Files.getAttribute(replaced, "unix:uid"));
        assertEquals(4712, Files.getAttribute(replaced, "unix:gid"));
        assertEquals("host\n", Files.readString(hostFile));
        try (var left = Files.list(workspace)) {
            assertEquals(1, left.count(), "no temporary file is left");
        }
    }

    @Test
    void chownAndRemoveActOnTheLinkNotOnItsTarget() throws IOException {
        arrange();
        int hostOwner = (Integer) Files.getAttribute(hostFile, "unix:uid");
        Files.createSymbolicLink(workspace.resolve("link"), hostFile);
        Path hostFolder = Files.createDirectory(dir.resolve("host-folder"));
        Files.createSymbolicLink(workspace.resolve("folder-link"), hostFolder);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            folder.chown("link", 4711, 4711);
            assertEquals(UntrustedDirectory.Entry.Kind.SYMLINK, folder.stat("link").orElseThrow().kind());
            assertEquals(4711, folder.stat("link").orElseThrow().uid());
            folder.removeFile("link");
            assertThrows(FileSystemException.class, () -> folder.removeEmptyDirectory("folder-link"));
            assertEquals(Optional.empty(), folder.stat("link"));
            assertThrows(NoSuchFileException.class, () -> folder.removeFile("link"));
        }
        assertEquals(hostOwner, Files.getAttribute(hostFile, "unix:uid"));
        assertEquals("host\n", Files.readString(hostFile));
        assertTrue(Files.isDirectory(hostFolder));
        assertTrue(Files.isSymbolicLink(workspace.resolve("folder-link")));
    }

    @Test
    void statSeesWhatANameIsWithoutFollowingIt() throws IOException {
        arrange();
        Files.createDirectory(workspace.resolve("sub"));
        Files.writeString(workspace.resolve("sub/file"), "12345");
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            UntrustedDirectory.Entry file = folder.stat("sub/file").orElseThrow();
            assertEquals(UntrustedDirectory.Entry.Kind.FILE, file.kind());
            assertEquals(5, file.size());
            assertEquals(1, file.links());
            assertEquals(UntrustedDirectory.Entry.Kind.DIRECTORY, folder.stat("sub").orElseThrow().kind());
            assertEquals(Optional.empty(), folder.stat("sub/missing"));
            folder.createDirectory("sub/made", 0750);
            assertEquals(UntrustedDirectory.Entry.Kind.DIRECTORY, folder.stat("sub/made").orElseThrow().kind());
            folder.removeEmptyDirectory("sub/made");
        }
        assertFalse(Files.exists(workspace.resolve("sub/made"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void readFileReadsUpToItsLimitAndRefusesMore() throws IOException {
        arrange();
        byte[] content = new byte[70_000];
        java.util.Arrays.fill(content, (byte) 'a');
        Files.write(workspace.resolve("big"), content);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            assertArrayEquals(content, folder.readFile("big", 70_000));
            FileSystemException tooLarge = assertThrows(FileSystemException.class, () -> folder.readFile("big", 69_999));
            assertTrue(tooLarge.getMessage().contains("larger than"), tooLarge.getMessage());
        }
    }

    @Test
    void removeTreeRemovesEverythingAndFollowsNoLink() throws Exception {
        arrange();
        Path hostFolder = Files.createDirectory(dir.resolve("host-folder"));
        Path hostInFolder = Files.writeString(hostFolder.resolve("kept"), "host\n");
        Path home = Files.createDirectories(workspace.resolve("home/.cache/deep"));
        Files.writeString(home.resolve("file"), "x");
        Files.createSymbolicLink(workspace.resolve("home/to-folder"), hostFolder);
        Files.createSymbolicLink(workspace.resolve("home/.cache/to-file"), hostFile);
        Files.createLink(workspace.resolve("home/hard"), hostFile);
        Path deep = workspace.resolve("home");
        for (int i = 0; i < 300; i++) {
            deep = Files.createDirectory(deep.resolve("d"));
        }
        // A name that is no valid UTF-8, and a FIFO, as a cage can make them.
        Process odd = new ProcessBuilder("sh", "-c", "touch \"$(printf 'bad\\377name')\" && mkfifo pipe")
                .directory(workspace.resolve("home/.cache").toFile()).start();
        assertEquals(0, odd.waitFor());
        try (var names = Files.list(workspace.resolve("home/.cache"))) {
            assertEquals(4, names.count(), "the odd names are there to remove");
        }

        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            folder.removeTree("home");
            folder.removeTree("home");
        }

        assertFalse(Files.exists(workspace.resolve("home"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("host\n", Files.readString(hostFile));
        assertEquals("host\n", Files.readString(hostInFolder));
        // Positive control: the plain file API, through the same kind of link, removes the host's file.
        Path link = Files.createSymbolicLink(workspace.resolve("to-folder"), hostFolder);
        Files.delete(link.resolve("kept"));
        assertFalse(Files.exists(hostInFolder));
    }

    @Test
    void removeTreeOfALinkRemovesTheLinkOnly() throws IOException {
        arrange();
        Path hostFolder = Files.createDirectory(dir.resolve("host-folder"));
        Files.writeString(hostFolder.resolve("kept"), "host\n");
        Files.createSymbolicLink(workspace.resolve("clone"), hostFolder);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            folder.removeTree("clone");
        }
        assertFalse(Files.exists(workspace.resolve("clone"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("host\n", Files.readString(hostFolder.resolve("kept")));
    }

    @Test
    void createDirectoriesMakesWhatIsMissingAndRefusesALinkOnTheWay() throws IOException {
        arrange();
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Files.createSymbolicLink(workspace.resolve("logs"), elsewhere);
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            folder.createDirectories("a/b/c", 0750);
            folder.createDirectories("a/b/c", 0750);
            FileSystemException refused = assertThrows(FileSystemException.class,
                    () -> folder.createDirectories("logs/run/today", 0700));
            assertTrue(refused.getMessage().contains("symbolic link"), refused.getMessage());
        }
        assertTrue(Files.isDirectory(workspace.resolve("a/b/c"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(elsewhere.resolve("run")));
        // Positive control: the plain file API makes the folders through the link.
        Files.createDirectories(workspace.resolve("logs/run/today"));
        assertTrue(Files.isDirectory(elsewhere.resolve("run/today")));
    }

    @Test
    void placeFollowsTheHostsPathUpToTheFolderTheCageWritesAndNoFurther() throws IOException {
        arrange();
        Files.createDirectories(workspace.resolve("logs"));
        Path outside = Files.createDirectory(dir.resolve("outside"));
        Path userLink = Files.createSymbolicLink(dir.resolve("project"), workspace);
        List<Path> writable = List.of(workspace);

        assertEquals(new UntrustedDirectory.Placement(workspace, "audit.jsonl", true),
                UntrustedDirectory.place(workspace.resolve("audit.jsonl"), writable));
        assertEquals(new UntrustedDirectory.Placement(workspace, "logs/new/audit.jsonl", true),
                UntrustedDirectory.place(userLink.resolve("logs/new/audit.jsonl"), writable),
                "the user's own link leads into the workspace, and the rest is the cage's");
        assertEquals(new UntrustedDirectory.Placement(outside, "audit.jsonl", false),
                UntrustedDirectory.place(outside.resolve("audit.jsonl"), writable));
        assertEquals(new UntrustedDirectory.Placement(outside, "a/b/audit.jsonl", false),
                UntrustedDirectory.place(outside.resolve("a/b/audit.jsonl"), writable));
        // A link of the user's into a folder inside the workspace: the cage may have replaced that folder.
        Path intoLogs = Files.createSymbolicLink(dir.resolve("logs-link"), workspace.resolve("logs"));
        assertEquals(new UntrustedDirectory.Placement(workspace, "logs/audit.jsonl", true),
                UntrustedDirectory.place(intoLogs.resolve("audit.jsonl"), writable));
        Files.delete(workspace.resolve("logs"));
        Files.createSymbolicLink(workspace.resolve("logs"), outside);
        UntrustedDirectory.Placement placed = UntrustedDirectory.place(intoLogs.resolve("audit.jsonl"), writable);
        assertEquals(new UntrustedDirectory.Placement(workspace, "logs/audit.jsonl", true), placed);
        try (UntrustedDirectory folder = UntrustedDirectory.open(placed.folder())) {
            assertThrows(FileSystemException.class, () -> folder.openAppend(placed.relative(), 0600));
        }
        assertFalse(Files.exists(outside.resolve("audit.jsonl")));
        // Positive control: the plain file API, given the user's path, writes outside.
        Files.writeString(intoLogs.resolve("audit.jsonl"), "x");
        assertTrue(Files.exists(outside.resolve("audit.jsonl")));
    }

    @Test
    void aLinkToAHostFolderIsNeitherListedThroughNorMadeALinkIn() throws IOException {
        arrange();
        Files.createSymbolicLink(workspace.resolve("outside"), dir);
        Files.writeString(workspace.resolve("own"), "mine\n");
        try (UntrustedDirectory folder = UntrustedDirectory.open(workspace)) {
            assertEquals(List.of("outside", "own"), folder.list(".").stream().sorted().toList());
            assertThrows(FileSystemException.class, () -> folder.list("outside"));
            assertThrows(FileSystemException.class, () -> folder.createSymlink("outside/planted", new byte[] {'x'}));
            assertArrayEquals(dir.toString().getBytes(StandardCharsets.UTF_8), folder.readLink("outside", 4096));
            folder.createSymlink("made", "host-file".getBytes(StandardCharsets.UTF_8));
        }
        // Positive control: the plain file API lists the host folder through the link.
        try (var through = Files.list(workspace.resolve("outside"))) {
            assertTrue(through.anyMatch(path -> path.getFileName().toString().equals("host-file")));
        }
        assertFalse(Files.exists(dir.resolve("planted"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(Path.of("host-file"), Files.readSymbolicLink(workspace.resolve("made")));
    }
}
