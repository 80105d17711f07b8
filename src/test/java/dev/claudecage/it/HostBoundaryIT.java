package dev.claudecage.it;

import dev.claudecage.host.Directories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The host side acting on files a cage can change (issue 14, "Close the host boundary"), with
 * real runc: attack 1, a link the cage puts in place of an audit log in its workspace, through
 * which the root launcher's next run would append to any host file; attack 3, two cages on one
 * folder, where the first to stop removes the placeholders the other's read-only mounts sit on.
 */
class HostBoundaryIT {

    private static final List<String> MINE = List.of("it-share-a", "it-share-b");

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        CageHarness.destroySessions(MINE);
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(MINE), "the host holds leftovers of this test's sessions");
        assertEquals(List.of(), CageHarness.leftovers(), "the host holds cage leftovers before the test");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        CageHarness.destroySessions(MINE);
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(MINE), "the sessions left something behind");
        assertEquals(List.of(), CageHarness.leftovers(), "a cage left something behind");
    }

    /** {@code run --mount W:/workspace --audit-log W/LOG}, the README's own example, with filtered networking. */
    private static CageHarness.Result runWithAuditLogInTheWorkspace(Path workspace, String log, String script) {
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "filtered",
                "--mount", workspace + ":/workspace", "--audit-log", workspace.resolve(log).toString(),
                "--", "sh", "-c", script));
        CageHarness.Result result = CageHarness.launch(args, "", Map.of(), Duration.ofMinutes(2));
        System.out.println(result);
        return result;
    }

    @Test
    void attack1AuditLogReplacedByALinkToAHostFileIsNotWrittenThrough(@TempDir Path dir) throws Exception {
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        HostFolders.ownByAUser(workspace);
        // Stands in for /etc/bash.bashrc: a file root's next interactive shell would run.
        Path bashrc = Files.writeString(dir.resolve("bash.bashrc"), "# the host's own\n");
        Path readme = workspace.resolve("audit.jsonl");
        String denied = "getent hosts attack.example >/dev/null; exit 0";

        // The README's example works: the log in the workspace gets the run's decisions.
        CageHarness.Result first = runWithAuditLogInTheWorkspace(workspace, "audit.jsonl", denied);
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(Files.readString(readme).contains("attack.example"), Files.readString(readme));

        // The cage plants a link to the host file where a log will go: root's log itself it cannot remove in the
        // shifted workspace (its owner is no id of the mount's), so beside it, in a folder of its own.
        Path audit = workspace.resolve("logs/audit.jsonl");
        CageHarness.Result plant = runWithAuditLogInTheWorkspace(workspace, "audit.jsonl",
                "rm -f /workspace/audit.jsonl; mkdir /workspace/logs && ln -s " + bashrc + " /workspace/logs/audit.jsonl");
        assertTrue(Files.isSymbolicLink(audit), plant.toString());
        assertTrue(Files.isRegularFile(readme, java.nio.file.LinkOption.NOFOLLOW_LINKS), plant.toString());

        // The next run, whose cage makes a decision to log, does not write through the link.
        CageHarness.Result next = runWithAuditLogInTheWorkspace(workspace, "logs/audit.jsonl", denied);
        assertEquals("# the host's own\n", Files.readString(bashrc), "the launcher wrote the host file through the link: "
                + next);
        assertEquals(0, plant.exitCode(), "the run that planted the link read it back: " + plant);
        assertEquals(125, next.exitCode(), next.toString());
        assertTrue(next.stderr().contains("cannot open the audit log " + audit) && next.stderr().contains("symbolic link"),
                next.toString());

        // Positive control: the link the cage left does lead to the host file.
        Files.writeString(audit, "{}\n", StandardOpenOption.APPEND);
        assertEquals("# the host's own\n{}\n", Files.readString(bashrc));
    }

    private static CageHarness.Result start(String name, String mount) {
        CageHarness.Result result = cage("start", "--detach", "--name", name, "--rootfs", ROOTFS.toString(),
                "--network", "none", "--mount", mount, "--", "sleep", "300");
        System.out.println(result);
        return result;
    }

    @Test
    void attack3ASecondCageOnAFolderACageWritesIsRefused(@TempDir Path parent) throws Exception {
        Path repo = Files.createDirectory(parent.resolve("repo"));
        git(repo, "init", "-q", "-b", "main");
        Files.createDirectory(repo.resolve("sub"));
        HostFolders.ownByAUser(repo);
        Path other = Files.createDirectory(parent.resolve("other"));
        HostFolders.ownByAUser(other);
        assertEquals(0, start("it-share-a", repo + ":/workspace").exitCode());
        assertTrue(Files.isRegularFile(repo.resolve(".git/commondir")), "session a holds .git/commondir's place");

        CageHarness.Result second = start("it-share-b", repo + ":/workspace");
        if (second.exitCode() == 0) {
            // What the refusal is for, shown where it is missing: a stops and takes b's wall with it.
            assertEquals(0, cage("stop", "--timeout", "1", "it-share-a").exitCode());
            CageHarness.Result write = cage("shell", "it-share-b", "--", "sh", "-c",
                    "echo ../../evil > /workspace/.git/commondir && echo WROTE");
            fail("a second session started on the folder session a writes; once a stopped, b "
                    + (write.stdout().contains("WROTE") ? "wrote" : "did not write") + " .git/commondir: " + write);
        }
        assertNotEquals(0, second.exitCode());
        assertTrue(second.stderr().contains("session it-share-a writes " + repo + " already"), second.toString());
        assertTrue(second.stderr().contains("--clone"), second.toString());
        assertFalse(Files.exists(CageHarness.SESSION_DATA.resolve("it-share-b/state.json")), "a refused session stays");
        // A one-shot run on a folder inside it overlaps too.
        CageHarness.Result run = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--mount", repo.resolve("sub") + ":/workspace", "--", "true"));
        assertEquals(125, run.exitCode(), run.toString());
        assertTrue(run.stderr().contains("session it-share-a writes " + repo + " already, and " + repo.resolve("sub")
                + ", which this cage would write, is inside it"), run.toString());
        assertTrue(Files.isRegularFile(repo.resolve(".git/commondir")), "a's wall is as it was");

        // Positive controls: read-only, and another folder, are no second writer; the refusal is that one.
        assertEquals(0, start("it-share-b", repo + ":/workspace:ro").exitCode());
        assertEquals(0, cage("destroy", "it-share-b").exitCode());
        assertEquals(0, start("it-share-b", other + ":/workspace").exitCode());
        assertEquals(0, cage("destroy", "it-share-b").exitCode());

        // Once a has stopped, the folder is free, and b's own wall holds.
        assertEquals(0, cage("stop", "--timeout", "1", "it-share-a").exitCode());
        assertFalse(Files.exists(repo.resolve(".git/commondir")), "a removed its placeholder");
        assertEquals(0, start("it-share-b", repo + ":/workspace").exitCode());
        CageHarness.Result write = cage("shell", "it-share-b", "--", "sh", "-c",
                "(echo ../../evil > /workspace/.git/commondir) 2>&1; echo beside > /workspace/.git/description && echo ok");
        assertTrue(write.stdout().contains("Read-only file system") && write.stdout().contains("ok"), write.toString());
        assertEquals(".\n", Files.readString(repo.resolve(".git/commondir")));
        assertEquals(0, cage("destroy", "it-share-b").exitCode());
        assertEquals(0, cage("destroy", "it-share-a").exitCode());
        try (Stream<Path> left = Files.list(repo.resolve(".git"))) {
            assertFalse(left.anyMatch(path -> path.getFileName().toString().equals("commondir")), "a placeholder is left");
        }
    }

    /** The host side removes nothing through a mount it finds in a tree: what the mount shows stays. */
    @Test
    void removingATreeStopsAtAMountPointInIt(@TempDir Path dir) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("home/.cache"));
        Path shown = Files.createDirectory(dir.resolve("shown"));
        Files.writeString(shown.resolve("kept"), "host\n");
        assertEquals(0, new ProcessBuilder("mount", "--bind", shown.toString(), tree.toString()).start().waitFor());
        try {
            assertTrue(Files.exists(tree.resolve("kept")), "positive control: the mount shows the host folder");
            java.io.IOException refused = assertThrows(java.io.IOException.class,
                    () -> Directories.deleteRecursively(dir.resolve("home")));
            assertTrue(Files.exists(shown.resolve("kept")), "removed through the mount: " + refused.getMessage());
            assertTrue(refused.getMessage().contains("mount point"), refused.getMessage());
        } finally {
            assertEquals(0, new ProcessBuilder("umount", tree.toString()).start().waitFor());
        }
        Directories.deleteRecursively(dir.resolve("home"));
        assertFalse(Files.exists(dir.resolve("home")));
        assertTrue(Files.exists(shown.resolve("kept")));
    }

    /** git on the test's own repository, as root (the test made it). */
    private static void git(Path repo, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("git", "-C", repo.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertEquals(0, process.waitFor(), String.join(" ", command) + ": " + output);
    }
}
