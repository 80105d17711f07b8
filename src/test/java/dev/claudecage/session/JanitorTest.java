package dev.claudecage.session;

import dev.claudecage.host.Host;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.testing.FakeProcesses;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JanitorTest {

    @Test
    void sessionContainerIdsNameTheirSession() {
        SessionName name = SessionName.of("brisk-otter");
        String id = Janitor.newContainerId(name);
        assertTrue(id.matches("s-brisk-otter-[0-9a-f]{12}"), id);
        assertEquals(name, Janitor.sessionOf(id).orElseThrow());
        assertTrue(Janitor.sessionOf("run-0123456789ab").isEmpty());
        assertTrue(Janitor.sessionOf("s-x").isEmpty());
    }

    @Test
    void vethLinesAreReadWithTheirPeerNamespace() {
        HostLeftovers.Link link = Janitor.parseLink("148: cgh99@if147: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN "
                + "mode DEFAULT group default qlen 1000\\    link/ether 36:92:f6:2b:ce:af brd ff:ff:ff:ff:ff:ff "
                + "link-netns claude-cage-s-a-000000000000");
        assertEquals(new HostLeftovers.Link("cgh99", "claude-cage-s-a-000000000000"), link);
        assertEquals(new HostLeftovers.Link("cgc3", null), Janitor.parseLink("9: cgc3@cgh3: <BROADCAST> mtu 1500"));
        assertNull(Janitor.parseLink("2: eth0: <BROADCAST> mtu 1500"));
        assertNull(Janitor.parseLink("5: cghost: <BROADCAST> mtu 1500"));
    }

    @Test
    void mountinfoEscapesAreDecoded() {
        assertEquals("/run/claude-cage/runs/a b", Janitor.unescapeMountinfo("/run/claude-cage/runs/a\\040b"));
        assertEquals("/plain", Janitor.unescapeMountinfo("/plain"));
    }

    @Test
    void oneShotLaunchersAreRecognised() {
        String main = "dev.claudecage.cli.Main";
        assertTrue(Janitor.isOneShotLauncher(List.of("java", "-jar", "/x/claude-cage.jar", "run", "--", "id"), main));
        assertTrue(Janitor.isOneShotLauncher(List.of("java", "-cp", "c", main, "verify"), main));
        assertFalse(Janitor.isOneShotLauncher(List.of("java", "-jar", "/x/claude-cage.jar", "start", "-d"), main));
        assertFalse(Janitor.isOneShotLauncher(List.of("sleep", "run"), main));
    }

    @Test
    void runtimeListOutputIsParsed() {
        assertEquals(List.of(), HostProbe.parseList("runc", "null"));
        assertEquals(List.of(new RuntimeContainer("runc", "s-a-000000000000", 12, "running")),
                HostProbe.parseList("runc", "[{\"ociVersion\":\"1.0.2\",\"id\":\"s-a-000000000000\",\"pid\":12,"
                        + "\"status\":\"running\",\"bundle\":\"/b\"}]"));
    }

    @Test
    void carriesOutEachStepWithItsCommandGoesOnPastAFailureAndTakesWhatIsGoneAsDone(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Host.effectiveUid() == 0, "as root the janitor runs its commands as they are; "
                + "rootless it would run them in user namespaces this test does not make");
        StatePaths paths = new StatePaths(dir.resolve("runtime"), dir.resolve("runs"));
        Path leftover = Files.createDirectories(paths.runs().resolve("run-0123456789ab/bundle"));
        Path busy = dir.resolve("runs/run-0123456789ab/bundle/rootfs");
        FakeProcesses processes = new FakeProcesses()
                .answer(List.of("nft"), 1, "", "Error: Operation not permitted")
                .answer(List.of("ip", "link", "delete"), 1, "", "Cannot find device \"cgh3\"")
                .answer(List.of("umount", busy.toString()), 32, "", "umount: " + busy + ": target is busy.");
        Janitor janitor = new Janitor(new HostProbe(paths, processes.runner()), processes.runner(), "Main");
        Janitor.Report report = janitor.carryOut(List.of(
                new CleanupPlan.DeleteContainer("runc", "run-0123456789ab", 0),
                new CleanupPlan.DeleteNetns("claude-cage-run-0123456789ab"),
                new CleanupPlan.DeleteNftTable("inet", "claude_cage_cgh3"),
                new CleanupPlan.DeleteLink("cgh3"),
                new CleanupPlan.Unmount(busy),
                new CleanupPlan.RemoveTree(leftover.getParent())));
        assertEquals(List.of(
                List.of("runc", "--root", paths.runtimeState().resolve("runc").toString(), "delete", "--force",
                        "run-0123456789ab"),
                List.of("ip", "netns", "delete", "claude-cage-run-0123456789ab"),
                List.of("nft", "delete", "table", "inet", "claude_cage_cgh3"),
                List.of("ip", "link", "delete", "cgh3"),
                List.of("umount", busy.toString()),
                List.of("umount", "--lazy", busy.toString())),
                processes.commands());
        assertEquals(List.of("nft table inet claude_cage_cgh3: 'nft delete table inet claude_cage_cgh3' failed with "
                + "exit code 1: Error: Operation not permitted"), report.failures());
        assertEquals(List.of("container run-0123456789ab (runc)", "network namespace claude-cage-run-0123456789ab",
                "link cgh3", "mount " + busy, "folder " + leftover.getParent()), report.removed());
        assertFalse(Files.exists(leftover.getParent()));
    }
}
