package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.claudecage.host.Netns;
import dev.claudecage.json.Json;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.Executables;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.verify.Canary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * gVisor as the runtime ({@code --runtime runsc}): the probe suite with its controls (no network and
 * filtered), a filtered cage reaching its canary only where the policy allows, and a session's
 * lifecycle, on this host's runsc.
 */
@ExtendWith(CleanSessionHost.class)
class RunscIT {

    private static final ProcessRunner RUNNER = new ProcessRunner(false);
    private static final Path RUNSC_STATE_ROOT = Path.of("/run/claude-cage/runtime/runsc");
    /** The cage's user, as the configuration has it. */
    private static final int CAGE_USER = 1000;

    @BeforeEach
    void requireRunsc() {
        CageHarness.requireRootAndRootfs();
        assumeTrue(Executables.find("runsc").isPresent(), "runsc (gVisor) is not installed: apt-get install runsc");
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "filtered"})
    void everyProbeRunsUnderGvisorAndAProbeOrControlThatDoesNotApplySaysWhy(String network) throws Exception {
        List<String> runscFilesBefore = verifyFilesIn(RUNSC_STATE_ROOT);
        // The default memory limit: under gVisor a smaller one ends the fork bomb's cage before the pids limit does.
        CageHarness.Result result = CageHarness.launch(List.of("verify", "--json", "--runtime", "runsc", "--rootfs",
                ROOTFS.toString(), "--network", network), "", Map.of(), Duration.ofMinutes(8));
        JsonNode report = Json.mapper().readTree(result.stdout());
        assertEquals("runsc", report.path("runtime").asText(), result.toString());
        List<String> failures = new ArrayList<>();
        int controlsShown = 0;
        for (JsonNode probe : report.path("probes")) {
            String id = probe.path("id").asText();
            String outcome = probe.path("outcome").asText();
            String control = probe.path("control").path("outcome").asText();
            String detail = probe.path("detail").asText();
            System.out.printf("%-30s %-8s control=%-8s %s%n", id, outcome, control, detail);
            boolean saysWhy = detail.contains("gVisor") || detail.contains("runsc");
            if (outcome.equals("not-run")) {
                if (!saysWhy) {
                    failures.add(id + " did not run and does not say gVisor is why: " + detail);
                }
                continue;
            }
            if (!outcome.equals("blocked")) {
                failures.add(id + " not blocked: " + detail);
            }
            if (control.equals("hole")) {
                controlsShown++;
            } else if (!(probe.path("control").isMissingNode() && detail.contains("positive control not run: ") && saysWhy)) {
                failures.add(id + " control did not show the hole and does not say gVisor is why: "
                        + probe.path("control").path("detail").asText() + " / " + detail);
            }
        }
        assertEquals(List.of(), failures, result.stderr());
        assertTrue(controlsShown >= 30, "at least 30 controls show their hole under gVisor too: " + controlsShown);
        List<String> left = new ArrayList<>(verifyFilesIn(RUNSC_STATE_ROOT));
        left.removeAll(runscFilesBefore);
        assertEquals(List.of(), left, "verify's cages left runsc state (or lock) files in " + RUNSC_STATE_ROOT);
    }

    private static List<String> verifyFilesIn(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(root)) {
            return files.map(file -> file.getFileName().toString()).filter(name -> name.startsWith("verify-")).toList();
        }
    }

    @Test
    void theHostsNetworkIsRefusedWithTheReason() {
        CageHarness.Result result = cage("run", "--runtime", "runsc", "--rootfs", ROOTFS.toString(), "--network", "host",
                "--", "true");
        assertEquals(125, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("network 'host' cannot work under runsc") && result.stderr().contains("EAGAIN")
                && result.stderr().contains("--runtime runc"), result.toString());
    }

    /**
     * Why the host's network is refused, shown on this host's runsc: started by hand on the host's network
     * stack ({@code runsc --network=host}, which claude-cage refuses), a blocking read on a TCP socket to a
     * loopback server the test owns, which answers after a second, fails at once with EAGAIN. The control is
     * the same client in a runc cage on the host's network, whose read waits for the answer. When this test
     * fails, runsc has been fixed here: lift the refusal in runtime/Runsc.
     */
    @Test
    void underGvisorOnTheHostsStackABlockingReadFailsWithEagainAsTheRefusalSays() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            Thread answering = new Thread(() -> answerAfterASecond(server), "late-answer");
            answering.setDaemon(true);
            answering.start();
            String client = "exec 3<>/dev/tcp/127.0.0.1/" + server.getLocalPort() + "; head -1 <&3";

            CageHarness.Result control = cage("run", "--rootfs", ROOTFS.toString(), "--network", "host", "--", "bash",
                    "-c", client);
            assertEquals("late answer", control.stdout().strip(), "control: under runc the read waits " + control);

            Path bundle = Files.createTempDirectory("it-runsc-hostnet");
            String id = "it-runsc-hostnet-" + ProcessHandle.current().pid();
            List<String> runsc = List.of("runsc", "--root", bundle.resolve("state").toString(), "--network=host",
                    "--platform=ptrace");
            try {
                Files.writeString(bundle.resolve("config.json"), hostNetworkBundle(client));
                CommandResult underGvisor = RUNNER.runAllowingFailure(concat(runsc, "run", "--bundle",
                        bundle.toString(), id), Duration.ofMinutes(1));
                assertTrue(underGvisor.exitCode() != 0
                        && underGvisor.stderr().contains("Resource temporarily unavailable"), underGvisor.toString());
            } finally {
                RUNNER.runAllowingFailure(concat(runsc, "delete", "--force", id), Duration.ofSeconds(30));
                RUNNER.run(List.of("rm", "-rf", "--", bundle.toString()), Duration.ofSeconds(30));
            }
        }
    }

    private static void answerAfterASecond(ServerSocket server) {
        for (int answered = 0; answered < 8; answered++) {
            try (Socket client = server.accept()) {
                Thread.sleep(1000);
                client.getOutputStream().write("late answer\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException | InterruptedException closed) {
                return;
            }
        }
    }

    /** The least config.json runsc runs: the minbase root read-only, no network namespace (the host's), as nobody. */
    private static String hostNetworkBundle(String script) {
        ObjectNode spec = Json.mapper().createObjectNode().put("ociVersion", "1.0.2");
        ObjectNode process = spec.putObject("process").put("cwd", "/");
        process.putArray("args").add("bash").add("-c").add(script);
        process.putArray("env").add("PATH=/usr/bin:/bin");
        process.putObject("user").put("uid", 65534).put("gid", 65534);
        spec.putObject("root").put("path", ROOTFS.toString()).put("readonly", true);
        spec.putArray("mounts").addObject().put("destination", "/proc").put("type", "proc").put("source", "proc");
        ArrayNode namespaces = spec.putObject("linux").putArray("namespaces");
        List.of("pid", "ipc", "uts", "mount").forEach(type -> namespaces.addObject().put("type", type));
        return spec.toString();
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    /**
     * A filtered cage under gVisor's own network stack: every direct way to the test's canary host
     * (IPv4, IPv6, TCP, UDP, and a CONNECT the policy does not allow) stays blocked, as the canary's
     * own record shows, while the proxy answers; the positive control, the same canary allowed, is
     * reached through the proxy from a cage under runsc, whose reply a blocking read takes (gVisor's
     * use of the host's stack answered such a read with EAGAIN).
     */
    @Test
    void aFilteredCageUnderGvisorReachesAnAllowedHostThroughTheProxyAndNothingElse() throws Exception {
        try (TestNetwork internet = new TestNetwork("rnet")) {
            TestNetwork.TestHost canaryHost = internet.addHost("canary");
            try (Canary canary = Netns.call(canaryHost.namespace(), () -> Canary.open(
                    List.of(canaryHost.address4(), canaryHost.address6()), List.of(80, 443), List.of(53)))) {
                String toProxy = "p=${HTTP_PROXY#http://}; ph=${p%:*}; pp=${p##*:}; exec 3<>/dev/tcp/$ph/$pp\n";
                String blocked = toProxy
                        + "printf 'CONNECT canary.test:443 HTTP/1.1\\r\\nHost: canary.test:443\\r\\n\\r\\n' >&3\n"
                        + "timeout 10 head -1 <&3\n"
                        + "(timeout 5 bash -c 'echo > /dev/tcp/" + canaryHost.address4() + "/80') 2>&1 | tail -1\n"
                        + "(timeout 5 bash -c 'echo > /dev/tcp/" + canaryHost.address6() + "/443') 2>&1 | tail -1\n"
                        + "(echo probe > /dev/udp/" + canaryHost.address4() + "/53) 2>&1 | tail -1\n"
                        + "exit 0";
                CageHarness.Result refused = runFiltered(canaryHost, List.of(), blocked);
                assertEquals(0, refused.exitCode(), refused.toString());
                assertTrue(refused.stdout().startsWith("HTTP/1.1 403"), refused.toString());
                Thread.sleep(500);
                assertEquals(List.of(), canary.takeHits(), "the canary was reached from a cage under gVisor");

                String allowed = toProxy + "printf 'GET http://canary.test/ HTTP/1.1\\r\\nHost: canary.test\\r\\n\\r\\n' >&3\n"
                        + "head -1 <&3\nexit 0";
                CageHarness.Result reached = runFiltered(canaryHost, List.of("--allowed-host", "canary.test:80"), allowed);
                assertEquals(0, reached.exitCode(), reached.toString());
                Thread.sleep(300);
                assertFalse(canary.takeHits().isEmpty(), "positive control: the allowed request must reach the canary "
                        + reached);
            }
        }
        assertEquals(List.of(), NetworkLeftovers.listExcept("rnet"), "the cage left network state behind");
    }

    private static CageHarness.Result runFiltered(TestNetwork.TestHost canaryHost, List<String> extra, String script) {
        List<String> args = new ArrayList<>(List.of("run", "--runtime", "runsc", "--rootfs", ROOTFS.toString(),
                "--network", "filtered", "--resolve", "canary.test=" + canaryHost.address4()));
        args.addAll(extra);
        args.addAll(List.of("--", "bash", "-c", script));
        CageHarness.Result result = CageHarness.launch(args, "", Map.of(), Duration.ofMinutes(2));
        System.out.println(result);
        return result;
    }

    @Test
    void aSessionUnderGvisorStartsStopsAndIsDestroyedAndRefusesAShellThatWouldLackTheFilter() {
        CageHarness.Result start = cage("start", "--detach", "--name", "it-runsc", "--runtime", "runsc", "--rootfs",
                ROOTFS.toString(), "--network", "none", "--", "sh", "-c", "while :; do echo tick; sleep 0.2; done");
        assertEquals(0, start.exitCode(), start.toString());
        CageHarness.Result list = cage("list", "--json");
        assertTrue(list.stdout().contains("\"it-runsc\""), list.toString());
        CageHarness.Result shell = cage("shell", "it-runsc", "--", "true");
        assertEquals(1, shell.exitCode(), shell.toString());
        assertTrue(shell.stderr().contains("without the cage's seccomp filter"), shell.toString());
        assertTrue(cage("logs", "it-runsc").stdout().contains("tick"));
        assertEquals(0, cage("stop", "it-runsc").exitCode());
        assertEquals(0, cage("destroy", "it-runsc").exitCode());
        assertEquals(0, cage("gc").exitCode());
    }

    /**
     * A filtered session under gVisor runs, and runsc itself, asked from the host's network namespace
     * as every status, stop and cleanup asks it, says so. runsc's control socket is abstract, bound in
     * one network namespace only: when runsc was launched inside the cage's, it answered "stopped"
     * (pid -1) for the running cage, the session never came up, and stop or a janitor could take a
     * live cage for dead. Stop and destroy then leave nothing: no namespace, veth, nft table, mount,
     * cgroup, runtime state or process.
     */
    @Test
    void aFilteredSessionUnderGvisorRunsAsRunscItselfSaysAndStopAndDestroyLeaveNothing() throws Exception {
        String name = "it-runsc-filtered";
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(List.of(name)), "leftovers before the test");
        CageHarness.Result start = cage("start", "--detach", "--name", name, "--runtime", "runsc", "--rootfs",
                ROOTFS.toString(), "--network", "filtered", "--", "sh", "-c", "while :; do echo tick; sleep 0.2; done");
        assertEquals(0, start.exitCode(), start.toString());
        JsonNode session = SessionLifecycleIT.status(name);
        assertEquals("running", session.path("state").asText(), session.toString());
        assertEquals("filtered", session.path("network").asText(), session.toString());
        long cagePid = session.path("cagePid").asLong();
        assertTrue(cagePid > 1, session.toString());
        CommandResult state = RUNNER.runAllowingFailure(List.of("runsc", "--root", "/run/claude-cage/runtime/runsc",
                "state", session.path("containerId").asText()), Duration.ofSeconds(30));
        assertEquals(0, state.exitCode(), state.toString());
        JsonNode runtimeState = Json.mapper().readTree(state.stdout());
        assertEquals("running", runtimeState.path("status").asText(), state.stdout());
        assertEquals(cagePid, runtimeState.path("pid").asLong(), state.stdout());
        // The cage's own output, no exec into it: its loop runs.
        assertTrue(cage("logs", name).stdout().contains("tick"));
        assertEquals(0, cage("stop", name).exitCode());
        assertEquals("stopped", SessionLifecycleIT.state(name));
        assertEquals(0, cage("destroy", name).exitCode());
        assertEquals(List.of(), CageHarness.sessionLeftoversOf(List.of(name)), "the session left something behind");
        assertEquals(List.of(), NetworkLeftovers.list(), "the cage left network state behind");
    }

    /**
     * A runsc cage has host ids of its own, as a runc cage does: it holds a block of them while it runs
     * and gives it back at destroy, and gVisor's file server, which makes the cage's files on the host,
     * runs as the cage's root, its block's first host id, not as host root; what the cage writes in a
     * workspace of uid 1000's is the mount's owner's, as under runc. (The cage's root is read-only: a
     * write there ends the cage, and with it the session's block.)
     */
    @Test
    void aRunscCagesFileServerRunsAsItsOwnBlockNotAsHostRoot(@TempDir Path dir) throws Exception {
        // @TempDir is root's alone (rwx------): runsc's file server reaches the workspace only through its staged copy.
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Files.setAttribute(workspace, "unix:uid", CAGE_USER);
        Files.setAttribute(workspace, "unix:gid", CAGE_USER);
        Path readOnly = Files.createDirectory(dir.resolve("read-only"));
        String name = "it-runsc-ids";
        CageHarness.Result start = cage("start", "--detach", "--name", name, "--runtime", "runsc", "--rootfs",
                ROOTFS.toString(), "--network", "none", "--mount", workspace + ":/workspace",
                "--mount", readOnly + ":/reference:ro", "--", "sh", "-c",
                "echo workspace > /workspace/made && exec sleep 1000");
        assertEquals(0, start.exitCode(), start.toString());
        String containerId = SessionLifecycleIT.status(name).path("containerId").asText();
        // The staged copies the file server opens: the kernel holds the read-only one to read-only (the
        // file server cannot write there even if asked to), and the workspace's stays writable (the control).
        assertEquals(List.of("ro"), stagedMountModes(containerId, readOnly), "the read-only bind's staged copy");
        assertEquals(List.of("rw"), stagedMountModes(containerId, workspace), "the workspace's staged copy");
        Path blockRecord = Path.of("/run/claude-cage/userns", containerId);
        assertTrue(Files.isRegularFile(blockRecord), "the runsc cage holds no block of its own ids");
        long blockUid = Long.parseLong(Files.readString(blockRecord).strip().split(" ")[0]);
        Path inWorkspace = workspace.resolve("made");
        for (int tries = 0; tries < 100 && !Files.exists(inWorkspace); tries++) {
            Thread.sleep(100);
        }
        assertEquals(List.of((long) CAGE_USER, (long) CAGE_USER), ownerOf(inWorkspace),
                "a file the cage made in a workspace of uid 1000's is the mount's owner's, as under runc");
        String bundle = "/run/claude-cage/runs/" + containerId + "/bundle";
        List<String> goferUids = new ArrayList<>();
        try (var processes = Files.list(Path.of("/proc"))) {
            for (Path process : processes.filter(path -> path.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    List<String> arguments = List.of(Files.readString(process.resolve("cmdline")).split("\0"));
                    if (arguments.get(0).equals("runsc-gofer") && arguments.contains(bundle)) {
                        goferUids.add(Files.readAllLines(process.resolve("status")).stream()
                                .filter(line -> line.startsWith("Uid:")).findFirst().orElseThrow());
                    }
                } catch (java.io.IOException gone) {
                    // Not there any more: not the file server, which runs as long as the cage.
                }
            }
        }
        assertEquals(List.of("Uid:\t" + blockUid + "\t" + blockUid + "\t" + blockUid + "\t" + blockUid), goferUids,
                "gVisor's file server runs as the cage's root, its block's first host id");
        assertEquals(0, cage("destroy", name).exitCode());
        assertFalse(Files.exists(blockRecord), "destroy freed the cage's block");
    }

    /** ro or rw, of each staged copy of {@code source} in cage {@code containerId}'s staging folder (mountinfo). */
    private static List<String> stagedMountModes(String containerId, Path source) throws Exception {
        String staging = "/run/claude-cage/mounts/" + containerId + "/";
        List<String> modes = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            if (fields[4].startsWith(staging) && fields[3].endsWith("/" + source.getFileName())) {
                modes.add(List.of(fields[5].split(",")).contains("ro") ? "ro" : "rw");
            }
        }
        return modes;
    }

    private static List<Long> ownerOf(Path file) throws Exception {
        return List.of(((Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue(),
                ((Integer) Files.getAttribute(file, "unix:gid", LinkOption.NOFOLLOW_LINKS)).longValue());
    }

    @Test
    void anUnknownRunscPlatformIsRefusedWithTheChoices() {
        CageHarness.Result result = cage("run", "--runtime", "runsc", "--runsc-platform", "nosuch", "--rootfs",
                ROOTFS.toString(), "--", "true");
        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("runsc_platform") && result.stderr().contains("use auto, ptrace or kvm"),
                result.toString());
    }
}
