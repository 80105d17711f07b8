package dev.claudecage.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, attack 4 and the last item of point 9, with real runc: the cage never writes on the
 * host as root (a root-owned folder is refused, or written as the owner the user names), the
 * host's system folders and a root-equivalent socket are refused with their reason, and a single
 * regular file mounts.
 */
class MountOwnershipIT {

    /** The attack: a setuid copy of a shell, left in the host folder. */
    private static final String SETUID_COPY = "cd /workspace && cp /bin/sh s && chmod 4755 s && stat -c '%u %a' s";
    /** Empty SUDO_* variables are no sudo user: the launcher otherwise inherits the test's environment. */
    private static final Map<String, String> NO_SUDO = Map.of("SUDO_UID", "", "SUDO_GID", "");
    private static final Map<String, String> SUDO_4242 = Map.of("SUDO_UID", "4242", "SUDO_GID", "4242");

    private List<String> leftoversBefore;

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        leftoversBefore = CageHarness.leftovers();
    }

    /** Compared with before the test: other cages on this shared host come and go. */
    @AfterEach
    void nothingLeftBehind() throws Exception {
        List<String> added = new ArrayList<>(CageHarness.leftovers());
        added.removeAll(leftoversBefore);
        assertEquals(List.of(), added.stream().filter(item -> item.contains("/run-")).toList(),
                "the cage left something behind");
    }

    private static CageHarness.Result run(Map<String, String> env, List<String> options, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none"));
        args.addAll(options);
        args.add("--");
        args.addAll(List.of(command));
        return CageHarness.launch(args, "", env, Duration.ofMinutes(1));
    }

    /** Root's, and writable by anyone: only the ownership rule can keep the cage from writing as root. */
    private static Path rootsOpenFolder(Path folder) throws Exception {
        assertEquals(0, Files.getAttribute(folder, "unix:uid"));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxrwxrwx"));
        return folder;
    }

    @Test
    void attack4ARootOwnedWorkspaceIsRefusedAndNoSetuidRootFileAppears(@TempDir Path folder) throws Exception {
        rootsOpenFolder(folder);

        CageHarness.Result result = run(NO_SUDO, List.of("--mount", folder + ":/workspace"), "sh", "-c", SETUID_COPY);

        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("is writable, and it belongs to 0:0, root: the cage would write in it as root")
                && result.stderr().contains("--mount-owner UID[:GID]"), result.toString());
        assertFalse(Files.exists(folder.resolve("s")), "the cage ran and left its copy");
    }

    @Test
    void attack4WithANamedOwnerTheSetuidCopyIsThatOwnersNeverRoots(@TempDir Path folder) throws Exception {
        rootsOpenFolder(folder);
        Path theirs = Files.createDirectory(folder.resolve("work"));
        Files.setAttribute(theirs, "unix:uid", 4242);
        Files.setAttribute(theirs, "unix:gid", 4242);
        String attack = "awk '$5 == \"/workspace\" {print $6}' /proc/self/mountinfo; "
                + "cd /workspace; cp /bin/sh s 2>&1; cd work && cp /bin/sh s && chmod 4755 s && stat -c '%u %a' s";

        CageHarness.Result result = run(NO_SUDO, List.of("--mount", folder + ":/workspace", "--mount-owner", "4242:4242"),
                "sh", "-c", attack);

        assertEquals(0, result.exitCode(), result.toString());
        List<String> lines = result.stdout().lines().toList();
        // nosuid keeps the copy inert in the cage; on the host, where it stays, only its owner can.
        assertTrue(lines.get(0).contains("nosuid") && lines.get(0).contains("nodev") && lines.get(0).contains("idmapped"),
                "the workspace's mount options: " + result);
        // Shifted onto 4242, the cage writes nothing of root's, even where anyone may write.
        assertEquals(List.of("cp: cannot create regular file 's': Permission denied", "1000 4755"),
                lines.subList(1, lines.size()), result.toString());
        assertFalse(Files.exists(folder.resolve("s")));
        Path copy = theirs.resolve("s");
        assertEquals(4242, Files.getAttribute(copy, "unix:uid"), "on the host, the named owner's");
        assertEquals(4242, Files.getAttribute(copy, "unix:gid"));
        assertEquals(04755, (Integer) Files.getAttribute(copy, "unix:mode") & 07777, "the setuid bit is there: "
                + "what makes it harmless is its owner");
    }

    @Test
    void attack4AReadOnlyMountOfRootsIsReadAsNobody(@TempDir Path folder, @TempDir Path theirs) throws Exception {
        for (Path dir : List.of(folder, theirs)) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(dir.resolve("public.txt"), "public\n");
            Files.writeString(dir.resolve("secret.txt"), "secret\n");
            Files.setPosixFilePermissions(dir.resolve("secret.txt"), PosixFilePermissions.fromString("rw-------"));
        }
        String look = "cat /data/public.txt; cat /data/secret.txt 2>&1; touch /data/new 2>&1; exit 0";

        CageHarness.Result roots = run(NO_SUDO, List.of("--mount", folder + ":/data:ro"), "sh", "-c", look);

        assertEquals(0, roots.exitCode(), roots.toString());
        assertTrue(roots.stdout().startsWith("public\n") && roots.stdout().contains("secret.txt: Permission denied")
                && roots.stdout().contains("Read-only file system"), roots.toString());

        // Positive control: shifted onto the owner of a private file, the cage reads it.
        for (Path path : List.of(theirs, theirs.resolve("public.txt"), theirs.resolve("secret.txt"))) {
            Files.setAttribute(path, "unix:uid", 4242);
            Files.setAttribute(path, "unix:gid", 4242);
        }
        CageHarness.Result owners = run(SUDO_4242, List.of("--mount", theirs + ":/data:ro"), "sh", "-c", look);

        assertEquals(0, owners.exitCode(), owners.toString());
        assertTrue(owners.stdout().startsWith("public\nsecret\n"), owners.toString());
    }

    @Test
    void attack4EtcALinkToItAndTheRootAreRefused(@TempDir Path dir) throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("looks-harmless"), Path.of("/etc"));
        for (String mount : List.of("/etc:/workspace", link + ":/workspace", "/:/host:ro", "/var/run:/r:ro")) {
            CageHarness.Result result = run(SUDO_4242, List.of("--mount", mount), "true");

            assertEquals(2, result.exitCode(), mount + " -> " + result);
            assertTrue(result.stderr().contains("claude-cage never mounts the host's system folders"), result.toString());
        }
    }

    @Test
    void point9ADockerSocketIsRefusedWithItsRiskNotAMoveMountErrno(@TempDir Path dir) throws Exception {
        // Our own root-owned socket stands in for Docker's: it is listened on, and nothing may connect.
        Path socket = dir.resolve("docker.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            server.configureBlocking(false);

            CageHarness.Result result = run(NO_SUDO, List.of("--mount", socket + ":/var/run/docker.sock"),
                    "sh", "-c", "ls -l /var/run/docker.sock");

            assertEquals(2, result.exitCode(), result.toString());
            assertTrue(result.stderr().contains("which is a Unix socket: the cage would get whatever service listens on "
                    + "it") && result.stderr().contains("Docker's socket is root on the host"), result.toString());
            assertFalse(result.stderr().contains("errno"), result.toString());
            assertEquals(null, server.accept(), "nothing connected to the socket");
        }
    }

    @Test
    void point9ASingleRegularFileMountsShiftedAndAsItIs(@TempDir Path dir) throws Exception {
        Path notes = Files.writeString(dir.resolve("notes.txt"), "hello\n");
        Files.setAttribute(notes, "unix:uid", 4242);
        Files.setAttribute(notes, "unix:gid", 4242);
        String append = "cat /notes.txt && echo more >> /notes.txt && stat -c '%u' /notes.txt";

        CageHarness.Result shifted = run(SUDO_4242, List.of("--mount", notes + ":/notes.txt"), "sh", "-c", append);

        assertEquals(0, shifted.exitCode(), shifted.toString());
        assertEquals("hello\n1000\n", shifted.stdout());
        assertEquals("hello\nmore\n", Files.readString(notes));
        assertEquals(4242, Files.getAttribute(notes, "unix:uid"), "still the host user's");

        // The cage's own ids own it and nobody ran sudo: bound as it is.
        Files.setAttribute(notes, "unix:uid", 1000);
        Files.setAttribute(notes, "unix:gid", 1000);
        CageHarness.Result asItIs = run(NO_SUDO, List.of("--mount", notes + ":/notes.txt"), "sh", "-c", append);

        assertEquals(0, asItIs.exitCode(), asItIs.toString());
        assertEquals("hello\nmore\n1000\n", asItIs.stdout());
        assertEquals("hello\nmore\nmore\n", Files.readString(notes));
    }
}
