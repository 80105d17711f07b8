package dev.claudecage.image.build;

import dev.claudecage.image.dockerfile.DockerIgnore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Links in an image resolve inside the image, never on the host. */
class RootedPathTest {

    @TempDir
    Path root;

    @Test
    void linksResolveWithTheImageRootAsSlash() throws Exception {
        Files.createDirectories(root.resolve("usr/bin"));
        Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
        Files.createSymbolicLink(root.resolve("etc-link"), Path.of("/etc"));
        Files.createSymbolicLink(root.resolve("up"), Path.of("../../../.."));
        assertEquals(root.resolve("usr/bin/ls"), RootedPath.resolve(root, "/bin/ls", true));
        assertEquals(root.resolve("etc/passwd"), RootedPath.resolve(root, "/etc-link/passwd", true),
                "an absolute link stays in the image, not the host's /etc");
        assertEquals(root.resolve("etc"), RootedPath.resolve(root, "/up/etc", true), "'..' stops at the image root");
        assertEquals(root.resolve("x"), RootedPath.resolve(root, "/../../x", true));
    }

    @Test
    void theLastLinkIsKeptWhenAsked() throws Exception {
        Files.createSymbolicLink(root.resolve("link"), Path.of("/target"));
        assertEquals(root.resolve("link"), RootedPath.resolve(root, "/link", false));
        assertEquals(root.resolve("target"), RootedPath.resolve(root, "/link", true));
    }

    @Test
    void linkLoopsAreAnErrorNotAHang() throws Exception {
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("a"));
        assertThrows(java.io.IOException.class, () -> RootedPath.resolve(root, "/a/x", true));
    }

    @Test
    void copyIntoALinkedDirectoryWritesWhereTheImageSeesIt(@TempDir Path context) throws Exception {
        Files.createDirectories(root.resolve("usr/lib"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("/usr/lib"));
        Files.writeString(context.resolve("libx.so"), "x");
        SourceTree tree = SourceTree.imageRoot(context, "test");
        FileCopy.copy(root, tree, tree.match(List.of("libx.so")), "/lib/", UserDatabase.Identity.ROOT, null,
                DockerIgnore.none());
        assertTrue(Files.isRegularFile(root.resolve("usr/lib/libx.so")));
        assertTrue(Files.isSymbolicLink(root.resolve("lib")), "the link itself is left alone");
    }
}
