package dev.claudecage.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class InvokingUserTest {

    @TempDir
    Path dir;

    @Test
    void underSudoItIsTheSudoUserElseThisProcesssOwn() throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/bash\n"
                + "alice:x:1001:1002:Alice:/home/alice:/bin/bash\n");
        HostIds root = new HostIds(0, 0);
        assertEquals(new InvokingUser(Path.of("/home/alice"), new HostIds(1001, 1002)), InvokingUser.of(
                Map.of("SUDO_USER", "alice", "SUDO_UID", "1001", "SUDO_GID", "1002", "HOME", "/root"), passwd, root));
        assertEquals(new InvokingUser(Path.of("/root"), root), InvokingUser.of(Map.of("HOME", "/root"), passwd, root));
        // sudo by root itself is root's own call.
        assertEquals(Path.of("/root"), InvokingUser.home(Map.of("SUDO_USER", "root", "HOME", "/root"), passwd));
        // Ids that are not numbers are no sudo user's.
        assertEquals(root, InvokingUser.of(Map.of("SUDO_UID", "x", "SUDO_GID", "1", "HOME", "/root"), passwd, root).ids());
    }

    @Test
    void theSudoUserIsReadOnlyFromBothVariablesAsNumbers() {
        assertEquals(Optional.of(new HostIds(1001, 1002)),
                InvokingUser.sudoIds(Map.of("SUDO_UID", "1001", "SUDO_GID", "1002")));
        assertEquals(Optional.of(new HostIds(0, 0)), InvokingUser.sudoIds(Map.of("SUDO_UID", "0", "SUDO_GID", "0")));
        assertEquals(Optional.empty(), InvokingUser.sudoIds(Map.of()));
        assertEquals(Optional.empty(), InvokingUser.sudoIds(Map.of("SUDO_UID", "1001")));
        assertEquals(Optional.empty(), InvokingUser.sudoIds(Map.of("SUDO_UID", "alice", "SUDO_GID", "1001")));
        assertEquals(Optional.empty(), InvokingUser.sudoIds(Map.of("SUDO_UID", "99999999999", "SUDO_GID", "1")));
    }
}
