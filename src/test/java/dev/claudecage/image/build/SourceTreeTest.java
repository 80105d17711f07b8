package dev.claudecage.image.build;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SourceTreeTest {

    @TempDir
    Path context;

    @BeforeEach
    void files() throws Exception {
        Files.createDirectories(context.resolve("src/sub"));
        Files.writeString(context.resolve("src/a.sh"), "a");
        Files.writeString(context.resolve("src/b.sh"), "b");
        Files.writeString(context.resolve("src/sub/c.sh"), "c");
        Files.writeString(context.resolve("secret.env"), "KEY=1");
        Files.writeString(context.resolve(".dockerignore"), "*.env\n");
    }

    @Test
    void patternsMatchOneLevelAndPathsMustExist() throws Exception {
        SourceTree tree = SourceTree.context(context);
        assertEquals(List.of("src/a.sh", "src/b.sh"), tree.match(List.of("src/*.sh")));
        assertEquals(List.of("src"), tree.match(List.of("./src/")));
        assertEquals(List.of("src/a.sh"), tree.match(List.of("/src/a.sh")), "a leading / is the context root");
        assertEquals(List.of("src/a.sh"), tree.match(List.of("src/a.sh", "*.deb")), "a pattern may match nothing");
        assertThrows(IllegalArgumentException.class, () -> tree.match(List.of("missing.txt")));
        assertThrows(IllegalArgumentException.class, () -> tree.match(List.of("*.deb")));
        assertThrows(IllegalArgumentException.class, () -> tree.match(List.of("../outside")));
    }

    @Test
    void dockerignoredFilesAreInvisible() throws Exception {
        SourceTree tree = SourceTree.context(context);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> tree.match(List.of("secret.env")));
        assertTrue(error.getMessage().contains(".dockerignore"), error.getMessage());
        assertTrue(tree.tree("").stream().noneMatch(entry -> entry.endsWith(".env")));
    }

    @Test
    void aLinkCannotLeadOutOfTheContext() throws Exception {
        Files.createSymbolicLink(context.resolve("escape"), Path.of("/etc/passwd"));
        SourceTree tree = SourceTree.context(context);
        assertThrows(IllegalArgumentException.class, () -> tree.match(List.of("escape")),
                "/etc/passwd of the context, which does not exist, not the host's");
    }

    @Test
    void theHashSeesContentAndModeButNotTimes() throws Exception {
        SourceTree tree = SourceTree.context(context);
        List<String> sources = List.of("src");
        var before = tree.hash(sources);
        Files.setLastModifiedTime(context.resolve("src/a.sh"), FileTime.fromMillis(0));
        assertEquals(before, tree.hash(sources), "a touched file is the same file");
        Files.setPosixFilePermissions(context.resolve("src/a.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        var executable = tree.hash(sources);
        assertNotEquals(before, executable);
        Files.writeString(context.resolve("src/sub/c.sh"), "changed");
        assertNotEquals(executable, tree.hash(sources));
        Files.writeString(context.resolve("other.env"), "ignored");
        assertEquals(tree.hash(List.of("")), tree.hash(List.of("")));
    }
}
