package dev.claudecage.it;

import dev.claudecage.host.CgroupLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.launch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code claude-cage run} with real runc on the minbase rootfs. */
class RunIT {

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        assertEquals(List.of(), CageHarness.leftovers(), "the host holds cage leftovers before the test");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
    }

    private static List<String> run(String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none", "--"));
        args.addAll(List.of(command));
        return args;
    }

    @Test
    void commandRunsAsUid1000() {
        CageHarness.Result result = launch(run("id", "-u"));
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("1000\n", result.stdout());
    }

    @Test
    void rootIsReadOnly() {
        CageHarness.Result result = launch(run("touch", "/x"));
        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("Read-only file system"), result.toString());
        assertFalse(Files.exists(ROOTFS.resolve("x")), "the image itself was written to");
    }

    @Test
    void mountedWorkspaceIsWritableAndNothingElseOnTheHost(@TempDir Path workspace) throws Exception {
        Files.setPosixFilePermissions(workspace, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        // The cage's own ids own it, as a checkout of host uid 1000 would be: never root's (issue 14, attack 4).
        Files.setAttribute(workspace, "unix:uid", 1000);
        Files.setAttribute(workspace, "unix:gid", 1000);
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--mount", workspace + ":/workspace", "--",
                "sh", "-c", "echo from-cage > /workspace/out.txt && pwd && touch /var/tmp/escape 2>&1; "
                        + "echo home > $HOME/in-home && touch /etc/escape 2>&1; exit 0"));
        CageHarness.Result result = launch(args);
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("from-cage\n", Files.readString(workspace.resolve("out.txt")));
        assertTrue(result.stdout().startsWith("/workspace\n"), "the workspace is the working directory: " + result);
        assertTrue(result.stdout().contains("Read-only file system"), result.toString());
        assertFalse(Files.exists(ROOTFS.resolve("var/tmp/escape")));
        assertFalse(Files.exists(ROOTFS.resolve("etc/escape")));
        assertFalse(Files.exists(ROOTFS.resolve("home/claude/in-home")), "the home is a tmpfs, not the image");
    }

    @Test
    void readOnlyMountCannotBeWritten(@TempDir Path docs) throws Exception {
        // World-writable, so that only the read-only mount can stop the cage's user.
        Files.setPosixFilePermissions(docs, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--mount", docs + ":/docs:ro", "--", "touch", "/docs/new"));
        CageHarness.Result result = launch(args);
        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("Read-only file system"), result.toString());
        assertFalse(Files.exists(docs.resolve("new")));
    }

    @Test
    void exitCodesFollowDockerRun() throws Exception {
        assertEquals(7, launch(run("sh", "-c", "exit 7")).exitCode());
        CageHarness.Result notFound = launch(run("no-such-command"));
        assertEquals(127, notFound.exitCode(), notFound.toString());
        CageHarness.Result notExecutable = launch(run("/etc/passwd"));
        assertEquals(126, notExecutable.exitCode(), notExecutable.toString());
    }

    @Test
    void stdinAndStdoutPassThrough() {
        CageHarness.Result result = CageHarness.launch(run("tr", "a-z", "A-Z"), "hello cage\n", Map.of(),
                Duration.ofMinutes(1));
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("HELLO CAGE\n", result.stdout());
    }

    @Test
    void sigtermStopsTheCageAndRemovesIt() throws Exception {
        Process launcher = CageHarness.start(run("sh", "-c", "echo started; exec sleep 300"), Map.of());
        var stdout = new java.io.BufferedReader(new java.io.InputStreamReader(launcher.getInputStream()));
        assertEquals("started", stdout.readLine(), "the cage did not start");
        launcher.destroy();
        assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "the launcher did not stop on SIGTERM");
        assertEquals(List.of(), CageHarness.leftovers());
    }

    @Test
    void sigintStopsTheCageAndRemovesIt() throws Exception {
        Process launcher = CageHarness.start(run("sh", "-c", "echo started; exec sleep 300"), Map.of());
        var stdout = new java.io.BufferedReader(new java.io.InputStreamReader(launcher.getInputStream()));
        assertEquals("started", stdout.readLine(), "the cage did not start");
        // What Ctrl-C does without a terminal: SIGINT to the launcher's process group.
        new ProcessBuilder("kill", "-INT", Long.toString(launcher.pid())).start().waitFor();
        assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "the launcher did not stop on SIGINT");
        assertEquals(List.of(), CageHarness.leftovers());
    }

    @Test
    void crunRunsACageOnAHostWhoseCgroupLayoutItSupports() {
        Assumptions.assumeTrue(CgroupLayout.current() != CgroupLayout.HYBRID, "crun refuses this host's hybrid cgroup "
                + "layout: crunRefusesAHybridCgroupHostAndSaysWhatToDo covers this host");
        CageHarness.Result result = launch(List.of("run", "--runtime", "crun", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--", "id", "-u"));
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("1000\n", result.stdout());
    }

    @Test
    void crunRefusesAHybridCgroupHostAndSaysWhatToDo() {
        Assumptions.assumeTrue(CgroupLayout.current() == CgroupLayout.HYBRID, "this host's cgroup layout is "
                + CgroupLayout.current() + ", which crun runs on: crunRunsACageOnAHostWhoseCgroupLayoutItSupports covers it");
        CageHarness.Result result = launch(List.of("run", "--runtime", "crun", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--", "id", "-u"));
        assertEquals(125, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("crun cannot run cages on this host"), result.toString());
        assertTrue(result.stderr().contains("--runtime runc"), result.toString());
    }

    @Test
    void badInputExitsWithCode2BeforeAnyCageExists() {
        for (List<String> bad : List.of(
                List.of("run", "--memory", "4q", "--rootfs", ROOTFS.toString(), "--network", "none", "--", "true"),
                List.of("run", "--cpus", "-1", "--rootfs", ROOTFS.toString(), "--network", "none", "--", "true"),
                List.of("run", "--network", "bogus", "--rootfs", ROOTFS.toString(), "--", "true"),
                List.of("run", "--mount", "/no/such/dir:/workspace", "--rootfs", ROOTFS.toString(),
                        "--network", "none", "--", "true"),
                List.of("run", "--mount", "/tmp:/proc/x", "--rootfs", ROOTFS.toString(), "--network", "none", "--", "true"),
                List.of("run", "--no-such-flag", "--", "true"))) {
            CageHarness.Result result = launch(bad);
            assertEquals(2, result.exitCode(), bad + " -> " + result);
            assertTrue(result.stderr().startsWith("claude-cage: "), result.toString());
        }
    }

    @Test
    void filesWrittenToTheWorkspaceBelongToTheHostUser(@TempDir Path workspace) throws Exception {
        // The folder of a host user 4242 who ran sudo: the cage's uid 1000 works in it as its owner.
        Files.setAttribute(workspace, "unix:uid", 4242);
        Files.setAttribute(workspace, "unix:gid", 4242);
        Files.setPosixFilePermissions(workspace, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--mount", workspace + ":/workspace", "--",
                "sh", "-c", "mkdir /workspace/src && echo code > /workspace/src/main.c && stat -c '%u %U' /workspace/src/main.c"));
        CageHarness.Result result = CageHarness.launch(args, "", Map.of("SUDO_UID", "4242", "SUDO_GID", "4242"),
                Duration.ofMinutes(1));
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("1000 claude\n", result.stdout(), "inside, the cage's user owns what it made");
        assertEquals(4242, Files.getAttribute(workspace.resolve("src/main.c"), "unix:uid"));
        assertEquals(4242, Files.getAttribute(workspace.resolve("src"), "unix:gid"));
    }
}
