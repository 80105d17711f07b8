package dev.claudecage.image.build;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** USER and --chown read the image's own users. */
class UserDatabaseTest {

    @TempDir
    Path root;

    @BeforeEach
    void image() throws Exception {
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), """
                root:x:0:0:root:/root:/bin/bash
                claude:x:1000:1000::/home/claude:/bin/bash
                """);
        Files.writeString(root.resolve("etc/group"), """
                root:x:0:
                claude:x:1000:
                audio:x:29:claude
                """);
    }

    @Test
    void namesComeFromTheImage() throws Exception {
        UserDatabase users = UserDatabase.of(root);
        assertEquals(new UserDatabase.Identity(1000, 1000, List.of(29), "/home/claude"), users.forProcess("claude"));
        assertEquals(new UserDatabase.Identity(1000, 29, List.of(), "/home/claude"), users.forProcess("claude:audio"));
        assertEquals(UserDatabase.Identity.ROOT, users.forProcess(null));
        assertEquals(new UserDatabase.Identity(4242, 0, List.of(), "/"), users.forProcess("4242"),
                "an unknown uid runs with gid 0, as in Docker");
        assertThrows(IllegalArgumentException.class, () -> users.forProcess("nobody-here"));
    }

    @Test
    void chownWithoutAGroupUsesTheUidAsGid() throws Exception {
        UserDatabase users = UserDatabase.of(root);
        assertEquals(1000, users.forChown("claude").gid());
        assertEquals(4242, users.forChown("4242").gid());
        assertEquals(29, users.forChown("claude:audio").gid());
    }
}
