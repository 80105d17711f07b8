package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.host.Netns;
import dev.claudecage.json.Json;
import dev.claudecage.testing.GitHttpServer;
import dev.claudecage.testing.TestCertificates;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.verify.Canary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rootless subset, run by a non-root user that the test creates (with its own subordinate
 * ranges) and removes afterwards: doctor against this host's real answers, then cages whose walls
 * hold without any root privilege.
 */
class RootlessIT {

    private static RootlessUser user;

    @BeforeAll
    static void createUser() throws Exception {
        CageHarness.requireRootAndRootfs();
        user = RootlessUser.create();
    }

    @AfterAll
    static void removeUser() {
        if (user != null) {
            user.close();
        }
    }

    @AfterEach
    void nothingLeft() throws IOException {
        assertEquals(List.of(), user.leftovers(), "what the user's cages left");
    }

    private static JsonNode finding(JsonNode doctor, String check) {
        for (JsonNode finding : doctor.get("findings")) {
            if (finding.get("check").asText().equals(check)) {
                return finding;
            }
        }
        throw new AssertionError("doctor has no finding '" + check + "': " + doctor);
    }

    /** Starts the user's detached session {@code name} of {@code sleep 600} on its rootfs, with more flags. */
    private static void startSession(String name, String network, String... flags) {
        List<String> args = new ArrayList<>(List.of("start", "--name", name, "--detach", "--allow-unlimited",
                "--network", network, "--rootfs", user.rootfs.toString()));
        args.addAll(List.of(flags));
        args.addAll(List.of("--", "sleep", "600"));
        CageHarness.Result start = user.launch(args.toArray(String[]::new));
        assertEquals(0, start.exitCode(), start.toString());
    }

    private static String firstLine(String... command) throws Exception {
        Process process = new ProcessBuilder(command).start();
        String out = new String(process.getInputStream().readAllBytes());
        process.waitFor();
        return out.lines().findFirst().orElse("").strip();
    }

    private static boolean hybridCgroups() throws IOException {
        List<String> mounts = Files.readAllLines(Path.of("/proc/self/mounts"));
        return mounts.stream().anyMatch(line -> line.split(" ")[2].equals("cgroup"))
                && mounts.stream().anyMatch(line -> line.split(" ")[2].equals("cgroup2"));
    }

    @Test
    void doctorTellsThisHostsTruthToRootAndToTheUser() throws Exception {
        String runc = firstLine("runc", "--version");
        boolean appArmor = Files.exists(Path.of("/sys/module/apparmor/parameters/enabled"))
                && Files.readString(Path.of("/sys/module/apparmor/parameters/enabled")).strip().equals("Y");

        CageHarness.Result asRoot = CageHarness.launch(List.of("doctor", "--json"));
        assertEquals(0, asRoot.exitCode(), asRoot.toString());
        JsonNode root = Json.mapper().readTree(asRoot.stdout());
        assertEquals("root mode: cages can run", root.get("verdict").asText());
        assertEquals(runc, finding(root, "runtime runc").get("detail").asText());
        assertEquals("NOT_NEEDED", finding(root, "subuid ranges").get("status").asText());

        CageHarness.Result asUser = user.launch("doctor", "--json");
        assertEquals(0, asUser.exitCode(), asUser.toString());
        JsonNode rootless = Json.mapper().readTree(asUser.stdout());
        assertEquals(user.name, rootless.get("user").asText());
        assertTrue(rootless.get("rootless").asBoolean());
        String range = RootlessUser.SUBORDINATE_START + "-" + (RootlessUser.SUBORDINATE_START + RootlessUser.SUBORDINATE_COUNT - 1)
                + " (" + RootlessUser.SUBORDINATE_COUNT + ")";
        assertEquals(range, finding(rootless, "subuid ranges").get("detail").asText());
        assertEquals(range, finding(rootless, "subgid ranges").get("detail").asText());
        assertEquals("OK", finding(rootless, "newuidmap").get("status").asText());
        assertEquals("OK", finding(rootless, "user namespaces").get("status").asText());
        assertEquals(runc, finding(rootless, "runtime runc").get("detail").asText());
        if (hybridCgroups()) {
            assertTrue(finding(rootless, "runtime crun").get("detail").asText().endsWith("refuses this host's hybrid cgroup layout"));
            assertEquals("LIMITED", finding(rootless, "cgroup delegation").get("status").asText());
            assertEquals("rootless: cages can run, but only with --allow-unlimited (no cgroup delegation)",
                    rootless.get("verdict").asText());
        }
        if (!appArmor) {
            assertEquals("unavailable on this host: the kernel has no AppArmor", finding(rootless, "AppArmor").get("detail").asText());
        }

        CageHarness.Result table = user.launch("doctor");
        assertTrue(table.stdout().contains("subuid ranges") && table.stdout().contains("costs: "), table.toString());
    }

    @Test
    void limitsThatCannotBeEnforcedAreRefusedUnlessAllowed() throws Exception {
        Assumptions.assumeTrue(hybridCgroups(), "this host may delegate cgroups to the user, so its limits may hold: "
                + "the refusal is checked on a host that cannot (a hybrid cgroup layout)");
        CageHarness.Result refused = user.launch("run", "--network", "none", "--rootfs", user.rootfs.toString(), "--", "true");
        assertEquals(125, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().contains("cannot enforce the cage's limits for this user")
                && refused.stderr().contains("cpus=2, memory=4g, pids_limit=1024")
                && refused.stderr().contains("--allow-unlimited"), refused.toString());

        CageHarness.Result start = user.launch("start", "--name", "unlimited-refused", "--detach", "--network", "none",
                "--rootfs", user.rootfs.toString(), "--", "true");
        assertEquals(1, start.exitCode(), start.toString());
        assertTrue(start.stderr().contains("cpus=2, memory=4g, pids_limit=1024"), start.toString());
        assertTrue(user.launch("list").stdout().lines().noneMatch(line -> line.startsWith("unlimited-refused ")),
                "a refused session leaves no record");
    }

    @Test
    void aRootlessCageHoldsItsWallsAndWritesAsTheUser() throws Exception {
        CageHarness.Result run = user.launch("run", "--allow-unlimited", "--network", "none",
                "--rootfs", user.rootfs.toString(), "--mount", user.workspace + ":/workspace", "--",
                "sh", "-c", "id -u; id -g; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
                        + "touch /rootfs-write 2>&1; echo written > /workspace/from-cage; "
                        + "cat /proc/self/uid_map; stat -c 'root-owner %u:%g' /; ls /sys/class/net");
        assertEquals(0, run.exitCode(), run.toString());
        List<String> lines = run.stdout().lines().map(String::strip).toList();
        assertEquals("1000", lines.get(0), run.toString());
        assertEquals("1000", lines.get(1), run.toString());
        assertTrue(run.stdout().contains("CapEff:\t0000000000000000"), run.toString());
        assertTrue(run.stdout().contains("CapBnd:\t0000000000000000"), run.toString());
        assertTrue(run.stdout().contains("NoNewPrivs:\t1"), run.toString());
        assertTrue(run.stdout().contains("Seccomp:\t2"), run.toString());
        assertTrue(run.stdout().contains("Read-only file system"), run.toString());
        assertTrue(lines.stream().anyMatch(line -> line.matches("1000\\s+" + user.uid + "\\s+1")), run.toString());
        assertTrue(lines.contains("root-owner 0:0"), "the cage's / is its root's, not the user's: " + run);
        assertEquals("lo", lines.get(lines.size() - 1), "only loopback: " + run);

        Path written = user.workspace.resolve("from-cage");
        assertEquals("written\n", Files.readString(written));
        assertEquals(user.uid, Files.getAttribute(written, "unix:uid"), "the cage's file belongs to the user");
        assertEquals(user.gid, Files.getAttribute(written, "unix:gid"));
    }

    /**
     * Issue 14, attack 4 rootless: in a folder of root's that anyone may write, the cage's setuid copy
     * of a shell is the user's own, as it would be had they made it; a socket is refused there too (a
     * user in the docker group would hand the cage root), and mount_owner, which needs root, is refused.
     */
    @Test
    void attack4RootlessWritesAsTheUserNeverRootAndRefusesSockets() throws Exception {
        Path folder = Files.createTempDirectory(Path.of("/tmp"), "rootless-roots-");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path socket = folder.resolve("docker.sock");
            server.bind(UnixDomainSocketAddress.of(socket));
            String[] run = {"run", "--allow-unlimited", "--network", "none", "--rootfs", user.rootfs.toString()};

            // With the default protected paths: their placeholders in a folder of root's are the user's
            // (a launcher without root cannot give them to root, and once failed here with EPERM).
            CageHarness.Result copy = user.launch(concat(run, "--mount", folder + ":/workspace", "--", "sh", "-c",
                    "cd /workspace && cp /bin/sh s && chmod 4755 s && stat -c '%u %a' s"));

            assertEquals(0, copy.exitCode(), copy.toString());
            assertEquals("1000 4755\n", copy.stdout());
            assertEquals(user.uid, Files.getAttribute(folder.resolve("s"), "unix:uid"), "the user's, not root's");
            CageHarness.Result toSocket = user.launch(concat(run, "--mount", socket + ":/s", "--", "true"));
            assertEquals(2, toSocket.exitCode(), toSocket.toString());
            assertTrue(toSocket.stderr().contains("which is a Unix socket"), toSocket.toString());
            CageHarness.Result named = user.launch(concat(run, "--mount", folder + ":/workspace", "--mount-owner", "4242",
                    "--", "true"));
            assertEquals(2, named.exitCode(), named.toString());
            assertTrue(named.stderr().contains("applies only when claude-cage runs as root"), named.toString());
        } finally {
            try (var files = Files.list(folder)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(folder);
        }
    }

    private static String[] concat(String[] first, String... rest) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(List.of(rest));
        return all.toArray(String[]::new);
    }

    @Test
    void rootInsideIsASubordinateIdNeverTheUser() throws Exception {
        // A positive control for the mapping: a cage asked to run as root (refused by policy)
        // cannot be, and the namespace's root maps to the start of the subordinate range.
        CageHarness.Result root = user.launch("run", "--allow-unlimited", "--network", "none", "--user", "0",
                "--rootfs", user.rootfs.toString(), "--", "id", "-u");
        assertEquals(2, root.exitCode(), root.toString());
        CageHarness.Result map = user.launch("run", "--allow-unlimited", "--network", "none",
                "--rootfs", user.rootfs.toString(), "--", "cat", "/proc/self/uid_map");
        assertEquals(0, map.exitCode(), map.toString());
        assertTrue(map.stdout().lines().map(String::strip)
                .anyMatch(line -> line.matches("0\\s+" + RootlessUser.SUBORDINATE_START + "\\s+1000")), map.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "filtered"})
    void verifyPassesRootlessWithItsControls(String network) throws Exception {
        CageHarness.Result verify = user.launch("verify", "--json", "--allow-unlimited", "--network", network,
                "--rootfs", user.rootfs.toString());
        assertEquals(0, verify.exitCode(), verify.toString());
        List<String> expectedNotRun = new ArrayList<>();
        if (hybridCgroups()) {
            // No delegation on cgroup v1: the cage runs without limits, so their bombs are not run.
            expectedNotRun.addAll(List.of("pids-limit-holds", "memory-limit-holds"));
        }
        if (network.equals("filtered")) {
            expectedNotRun.addAll(List.of("gateway-other-ports-blocked", "gateway-idle-ports-closed"));
        }
        assertRootlessReport(Json.mapper().readTree(verify.stdout()), expectedNotRun);
    }

    @Test
    void verifySessionProbesARunningRootlessSessionAndLeavesItRunning() throws Exception {
        String name = "rootless-verify";
        try {
            startSession(name, "filtered");
            CageHarness.Result verify = user.launch("verify", "--json", "--session", name);
            assertEquals(0, verify.exitCode(), verify.toString());
            JsonNode report = Json.mapper().readTree(verify.stdout());
            assertEquals("session " + name, report.get("target").asText(), report.toString());
            // What no running session takes (fixture mounts, bombs among its own processes, writes to its
            // workspace, a read-only mount it lacks, a direct API route that would lead to the real API), and the
            // gateway-port probes a rootless cage has no gateway for.
            assertRootlessReport(report, List.of("setuid-inert", "workspace-protected-paths-hold",
                    "workspace-folders-pinned", "readonly-mount-holds", "pids-limit-holds", "memory-limit-holds",
                    "gateway-other-ports-blocked", "gateway-idle-ports-closed", "api-direct-route-closed"));
            CageHarness.Result status = user.launch("status", "--json", name);
            assertEquals("running", Json.mapper().readTree(status.stdout()).get("state").asText(), status.toString());
        } finally {
            user.launch("destroy", "--timeout", "0", name);
        }
    }

    /**
     * Every probe blocked, but those of {@code notRunHere} and root mode's identity probes, not run
     * with a reason; every control showed its hole, but those of the probes not run and the four that
     * need host capabilities.
     */
    private static void assertRootlessReport(JsonNode report, List<String> notRunHere) {
        List<String> expectedNotRun = new ArrayList<>(notRunHere);
        // A rootless cage's user is the invoking user by design: the probes of a root-mode cage's own ids do not apply.
        expectedNotRun.addAll(List.of("cage-ids-nobodys", "host-user-cannot-trace", "cage-ids-disjoint"));
        List<String> notRun = new ArrayList<>();
        List<String> withoutControl = new ArrayList<>();
        for (JsonNode probe : report.get("probes")) {
            String id = probe.get("id").asText();
            String outcome = probe.get("outcome").asText();
            if (outcome.equals("not-run")) {
                notRun.add(id);
                assertTrue(probe.get("detail").asText().length() > 20, "a probe not run says why: " + probe);
            } else {
                assertEquals("blocked", outcome, probe.toString());
            }
            if (probe.has("control")) {
                assertEquals("hole", probe.get("control").get("outcome").asText(), probe.toString());
            } else {
                withoutControl.add(id);
            }
        }
        assertEquals(new TreeSet<>(expectedNotRun), new TreeSet<>(notRun), report.toString());
        List<String> expectedWithoutControl = new ArrayList<>(expectedNotRun);
        expectedWithoutControl.addAll(List.of("open-by-handle-denied", "mknod-denied", "swapon-denied", "kernel-log-denied"));
        assertEquals(new TreeSet<>(expectedWithoutControl), new TreeSet<>(withoutControl),
                "every control but those of the probes not run and the four that need host capabilities");
    }

    /** Through the proxy by name, refused by name, then straight at the canary: what a filtered cage may and may not do. */
    private static final String FILTER_PROBE = String.join("\n",
            "use IO::Socket::INET;",
            "my ($allowed, $forbidden) = @ARGV;",
            "for my $url (\"http://allowed.test:$allowed/\", \"http://forbidden.test:$forbidden/\") {",
            "  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => 3128, Timeout => 5)",
            "    or do { print \"proxy unreachable: $!\\n\"; next };",
            "  print $s \"GET $url HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n\";",
            "  my $status = <$s> // \"(no answer)\\n\"; print \"$url $status\";",
            "}",
            "for my $host ('127.0.0.1', '10.213.0.1') {",
            "  my $d = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $forbidden, Timeout => 3);",
            "  print \"direct $host: \", ($d ? 'connected' : $!), \"\\n\";",
            "}",
            // No key and no git credential: neither gateway runs, and nothing is relayed for it.
            "for my $port (8080, 8081) {",
            "  my $g = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 3);",
            "  print \"idle $port: \", ($g ? 'connected' : $!), \"\\n\";",
            "}",
            // The cage's resolver: the DNS stub, through the relay on the cage's port 53.
            "for my $name ('allowed.test', 'forbidden.test') {",
            "  my @host = gethostbyname($name);",
            "  print \"resolve $name: \", (@host ? join('.', unpack('C4', $host[4])) : 'no such name'), \"\\n\";",
            "}",
            // A tool that ignores the proxy variables meets the transparent listener, which decides by Host.
            "my $t = IO::Socket::INET->new(PeerAddr => 'allowed.test', PeerPort => 80, Timeout => 5);",
            "if ($t) { print $t \"GET / HTTP/1.1\\r\\nHost: forbidden.test\\r\\nConnection: close\\r\\n\\r\\n\";",
            "  print 'transparent: ', (<$t> // \"(no answer)\\n\"); } else { print \"transparent: $!\\n\"; }",
            // A client that speaks no HTTP at all, to the allowed name's own port: its TCP relay, on the cage's loopback.
            "my $r = IO::Socket::INET->new(PeerAddr => 'allowed.test', PeerPort => $allowed, Timeout => 5);",
            "print 'relay: ', ($r ? (<$r> // \"(no answer)\\n\") : \"$!\\n\");", "");

    @Test
    void filteredReachesOnlyTheAllowedHostThroughTheProxyAndAuditsLikeRootMode() throws Exception {
        Path probe = user.home.resolve("probe");
        user.asUser(List.of("mkdir", "-p", probe.toString()));
        Files.writeString(probe.resolve("filter.pl"), FILTER_PROBE);
        Path audit = user.home.resolve("audit.jsonl");
        try (Canary allowed = Canary.open(List.of("127.0.0.1"), List.of(0), List.of());
             Canary forbidden = Canary.open(List.of("127.0.0.1"), List.of(0), List.of())) {
            int allowedPort = allowed.port("127.0.0.1", "tcp");
            int forbiddenPort = forbidden.port("127.0.0.1", "tcp");
            CageHarness.Result run = user.launch("run", "--allow-unlimited", "--network", "filtered",
                    "--rootfs", user.rootfs.toString(), "--mount", probe + ":/probe:ro",
                    "--resolve", "allowed.test=127.0.0.1", "--resolve", "forbidden.test=127.0.0.1",
                    "--allowed-host", "allowed.test:" + allowedPort, "--audit-log", audit.toString(),
                    "--", "perl", "/probe/filter.pl", Integer.toString(allowedPort), Integer.toString(forbiddenPort));
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.stdout().contains("http://forbidden.test:" + forbiddenPort + "/ HTTP/1.1 403"), run.toString());
            assertTrue(run.stdout().contains("direct 127.0.0.1: Connection refused"), "the cage's loopback is its own: " + run);
            assertTrue(run.stdout().contains("direct 10.213.0.1: Network is unreachable"), "no route out: " + run);
            // Attack 6, rootless: only what runs is relayed onto the cage's loopback.
            assertTrue(run.stdout().contains("idle 8080: Connection refused\nidle 8081: Connection refused\n"),
                    "no relay for a gateway that does not run: " + run);
            assertTrue(run.stdout().contains("resolve allowed.test: 127.0.0.1\n"), "the DNS stub answers allowed names: " + run);
            assertTrue(run.stdout().contains("resolve forbidden.test: no such name\n"), "and no other: " + run);
            assertTrue(run.stdout().contains("transparent: HTTP/1.1 403"), "the transparent listener refuses: " + run);
            assertTrue(run.stdout().contains("relay: canary\n"), "the TCP relay reaches the allowed host:port: " + run);
            assertTrue(!allowed.hits().isEmpty(), "the allowed host was reached through the proxy: " + run);
            assertEquals(List.of(), forbidden.hits(), "the forbidden canary heard nothing");

            List<JsonNode> events = Files.readAllLines(audit).stream().map(line -> {
                try {
                    return Json.mapper().readTree(line);
                } catch (IOException e) {
                    throw new AssertionError(line, e);
                }
            }).toList();
            assertTrue(events.stream().anyMatch(event -> event.get("decision").asText().equals("allowed")
                    && event.get("destination").asText().equals("allowed.test")), events.toString());
            assertTrue(events.stream().anyMatch(event -> event.get("source").asText().equals("relay")
                    && event.get("decision").asText().equals("allowed")
                    && event.get("destination").asText().equals("allowed.test")), events.toString());
            assertTrue(events.stream().anyMatch(event -> event.get("decision").asText().equals("denied")
                    && event.get("destination").asText().equals("forbidden.test")
                    && event.get("reason").asText().equals("forbidden.test is not in allowed_hosts")), events.toString());
            // The DNS stub's events, as in root mode: the allowed name answered, the other refused.
            assertTrue(events.stream().anyMatch(event -> event.get("source").asText().equals("dns")
                    && event.get("decision").asText().equals("allowed")
                    && event.get("destination").asText().equals("allowed.test")), events.toString());
            assertTrue(events.stream().anyMatch(event -> event.get("source").asText().equals("dns")
                    && event.get("decision").asText().equals("denied")
                    && event.get("destination").asText().equals("forbidden.test")), events.toString());
        }
    }

    /**
     * Datagrams to the cage's DNS port, each from a socket of its own (a port of its own), none a
     * query: the stub answers none, so each exchange stays open until the bridge's deadline. Then,
     * once they are sent, a real lookup.
     */
    private static final String DNS_FLOOD = String.join("\n",
            "use IO::Socket::INET;",
            "$| = 1;",
            "my ($count) = @ARGV;",
            "print \"flooding\\n\";",
            "for my $i (1 .. $count) {",
            "  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => 53, Proto => 'udp') or die \"socket: $!\\n\";",
            "  $s->send(\"not a query $i\");",
            "}",
            "print \"flooded\\n\";",
            "sleep 2;",
            "my @host = gethostbyname('allowed.test');",
            "print 'resolve after: ', (@host ? join('.', unpack('C4', $host[4])) : 'no such name'), \"\\n\";", "");

    /**
     * A cage that floods its DNS port must not make the host fork: the processes of the host in the
     * cage's network namespace (its relay and its namespace's holder; the cage's own processes are in
     * its pid namespace) are counted while 2000 datagrams arrive. socat's UDP4-RECVFROM,fork made one
     * per datagram. The count finding the relay itself is the control that it sees such processes.
     */
    @Test
    void aDnsFloodFromTheCageMakesNoHostProcessPerDatagramAndDnsStillAnswers() throws Exception {
        int datagrams = 2000;
        Path probe = user.home.resolve("flood-probe");
        user.asUser(List.of("mkdir", "-p", probe.toString()));
        Files.writeString(probe.resolve("flood.pl"), DNS_FLOOD);
        Process launcher = new ProcessBuilder(user.commandAsUser(List.of("run", "--allow-unlimited", "--network", "filtered",
                "--rootfs", user.rootfs.toString(), "--mount", probe + ":/flood-probe:ro",
                "--resolve", "allowed.test=127.0.0.1", "--allowed-host", "allowed.test:443",
                "--", "perl", "/flood-probe/flood.pl", Integer.toString(datagrams))))
                .directory(user.home.toFile()).redirectErrorStream(true).start();
        try {
            BufferedReader stdout = new BufferedReader(new InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8));
            List<String> output = new ArrayList<>();
            String line;
            while ((line = stdout.readLine()) != null && !line.equals("flooding")) {
                output.add(line);
            }
            assertEquals("flooding", line, "the cage did not start: " + output);
            String hostPidNamespace = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
            String cageNetwork = cageNetNamespaceOf("/flood-probe/flood.pl", hostPidNamespace);
            Thread reader = new Thread(() -> {
                try {
                    String next;
                    while ((next = stdout.readLine()) != null) {
                        synchronized (output) {
                            output.add(next);
                        }
                    }
                } catch (IOException ended) {
                    // The launcher has ended.
                }
            });
            reader.setDaemon(true);
            reader.start();
            int most = 0;
            List<String> seenAtMost = List.of();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (launcher.isAlive() && System.nanoTime() < deadline) {
                List<String> helpers = hostProcessesIn(cageNetwork, hostPidNamespace);
                if (helpers.size() > most) {
                    most = helpers.size();
                    seenAtMost = helpers;
                }
                Thread.sleep(20);
            }
            assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "the cage did not end");
            reader.join(5000);
            System.out.println("host processes in the cage's network namespace during the flood, at most " + most
                    + ": " + seenAtMost);
            synchronized (output) {
                assertTrue(output.contains("flooded"), "the flood was sent: " + output);
                assertTrue(output.contains("resolve after: 127.0.0.1"), "DNS answers after the flood: " + output);
            }
            assertEquals(0, launcher.exitValue(), output.toString());
            assertTrue(most >= 1, "the count never found the relay, so it could not see a process per datagram either");
            assertTrue(most <= 3, most + " host processes at once in the cage's network namespace during a flood of "
                    + datagrams + " datagrams: " + seenAtMost);
        } finally {
            launcher.destroyForcibly();
            launcher.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The network namespace of the cage's process whose command line holds {@code marker}: in a pid
     * namespace other than {@code hostPidNamespace}, so never the launcher that names it too.
     */
    private static String cageNetNamespaceOf(String marker, String hostPidNamespace) throws Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            for (ProcessHandle process : ProcessHandle.allProcesses().toList()) {
                Path ns = Path.of("/proc", Long.toString(process.pid()), "ns");
                try {
                    if (process.info().commandLine().orElse("").contains(marker)
                            && !Files.readSymbolicLink(ns.resolve("pid")).toString().equals(hostPidNamespace)) {
                        return Files.readSymbolicLink(ns.resolve("net")).toString();
                    }
                } catch (IOException gone) {
                    // It ended while we looked.
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no cage process runs " + marker);
    }

    /** The processes in the network namespace {@code network} that are in the host's pid namespace, not a cage's. */
    private static List<String> hostProcessesIn(String network, String hostPidNamespace) {
        List<String> found = new ArrayList<>();
        for (ProcessHandle process : ProcessHandle.allProcesses().toList()) {
            Path ns = Path.of("/proc", Long.toString(process.pid()), "ns");
            try {
                if (Files.readSymbolicLink(ns.resolve("net")).toString().equals(network)
                        && Files.readSymbolicLink(ns.resolve("pid")).toString().equals(hostPidNamespace)) {
                    found.add(process.pid() + " " + process.info().command().orElse("?"));
                }
            } catch (IOException gone) {
                // It ended while we looked.
            }
        }
        return found;
    }

    /** Asks the git gateway for the refs, as git's first request of a clone does, from the cage's own variables. */
    private static final String GIT_PROBE = String.join("\n",
            "use IO::Socket::INET;",
            "my ($base) = ($ENV{GIT_CONFIG_KEY_0} // '') =~ m{^url\\.(http://.*)/\\.insteadOf$} or die \"no git gateway\\n\";",
            "my ($address, $path) = $base =~ m{^http://([^/]+)(/.*)$};",
            "my ($host, $port) = split /:/, $address;",
            "my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 10)",
            "  or die \"gateway unreachable: $!\\n\";",
            "print $s \"GET $path/repo.git/info/refs?service=git-upload-pack HTTP/1.1\\r\\nHost: githost.test\\r\\n\"",
            "  . \"User-Agent: git/2.39.5\\r\\nConnection: close\\r\\n\\r\\n\";",
            "local $/; my $reply = <$s> // '';",
            "my ($status) = $reply =~ m{^(HTTP/1\\.\\d \\d+)};",
            "print 'STATUS ', ($status // 'none'), \"\\n\";",
            "print 'REFS ', ($reply =~ m{refs/heads/main} ? 'yes' : 'no'), \"\\n\";",
            "print 'TOKEN_IN_ENV ', ((grep { index($_, $ARGV[0]) >= 0 } values %ENV) ? 'yes' : 'no'), \"\\n\";",
            // The positive control: the same search finds a value that has the token's head.
            "$ENV{CONTROL} = $ARGV[0] . 'tail';",
            "print 'CONTROL ', ((grep { index($_, $ARGV[0]) >= 0 } values %ENV) ? 'yes' : 'no'), \"\\n\";", "");

    @Test
    void theGitGatewayAddsTheTokenOutsideARootlessCage() throws Exception {
        String tokenHead = "ghp_rootless";
        String token = tokenHead + Long.toHexString(System.nanoTime());
        Path files = user.home.resolve("git-test");
        user.asUser(List.of("mkdir", "-p", files.resolve("probe").toString()));
        Path certificatesDir = Files.createDirectories(Path.of("target", "rootless-git-" + System.nanoTime()).toAbsolutePath());
        TestCertificates certificates = TestCertificates.create(certificatesDir, List.of("githost.test"));
        Path repos = Files.createDirectories(certificatesDir.resolve("repos"));
        GitHttpServer.seedRepository(repos.resolve("repo.git"));
        Files.copy(certificates.caPem(), files.resolve("ca.pem"));
        Files.writeString(files.resolve("token"), token + "\n");
        Files.writeString(files.resolve("probe/git.pl"), GIT_PROBE);
        RootlessUser.run(List.of("chown", "-R", user.name + ":", files.toString()));
        RootlessUser.run(List.of("chmod", "0600", files.resolve("token").toString()));
        Path audit = files.resolve("audit.jsonl");
        try (TestNetwork internet = new TestNetwork("rlgit")) {
            TestNetwork.TestHost gitHost = internet.addHost("git");
            Path scratch = Files.createDirectories(certificatesDir.resolve("scratch"));
            try (GitHttpServer git = Netns.call(gitHost.namespace(), () -> GitHttpServer.start(
                    new InetSocketAddress(gitHost.address4(), 443), certificates.serverContext(), repos, scratch,
                    "x-access-token", token))) {
                CageHarness.Result run = user.launch("run", "--allow-unlimited", "--network", "filtered",
                        "--rootfs", user.rootfs.toString(), "--mount", files.resolve("probe") + ":/probe:ro",
                        "--allowed-host", "githost.test", "--resolve", "githost.test=" + gitHost.address4(),
                        "--git-credential", "githost.test=command:cat " + files.resolve("token"),
                        "--git-ca-certificates", files.resolve("ca.pem").toString(), "--audit-log", audit.toString(),
                        "--", "perl", "/probe/git.pl", tokenHead);
                assertEquals(0, run.exitCode(), run.toString());
                assertTrue(run.stdout().contains("STATUS HTTP/1.1 200\n") && run.stdout().contains("REFS yes\n"),
                        "the refs came through the gateway: " + run);
                assertTrue(run.stdout().contains("TOKEN_IN_ENV no\n") && run.stdout().contains("CONTROL yes\n"),
                        run.toString());
                assertFalse(run.stdout().contains(token), "the token reached the cage's output");

                // The server saw the token in the header, and nowhere else.
                String expected = "Basic " + Base64.getEncoder().encodeToString(("x-access-token:" + token)
                        .getBytes(StandardCharsets.UTF_8));
                List<GitHttpServer.Seen> seen = git.seen();
                assertTrue(seen.stream().anyMatch(request -> request.target().endsWith("/info/refs?service=git-upload-pack")
                        && expected.equals(request.authorization())), seen.toString());
                assertTrue(seen.stream().noneMatch(request -> request.target().contains(token)
                        || request.target().contains("sk-ant-cage-")), seen.toString());
                assertTrue(Files.readAllLines(audit).stream().anyMatch(line -> line.contains("\"source\":\"git\"")
                        && line.contains("\"destination\":\"githost.test\"") && line.contains("\"decision\":\"allowed\"")
                        && !line.contains(token)), "the gateway's use is audited");
            }
        } finally {
            RootlessUser.run(List.of("rm", "-rf", files.toString(), certificatesDir.toString()));
        }
    }

    /** Lists the agent's keys, then asks for a signature with no session bound: the relay must refuse it. */
    private static final String AGENT_PROBE = String.join("\n",
            "use IO::Socket::UNIX;",
            "my $agent = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die \"no agent at $ENV{SSH_AUTH_SOCK}: $!\\n\";",
            "sub ask { my ($type, $body) = @_; print $agent pack('N', 1 + length $body) . chr($type) . $body;",
            "  read($agent, my $length, 4) == 4 or return (-1, ''); read($agent, my $reply, unpack('N', $length));",
            "  return (ord(substr($reply, 0, 1)), substr($reply, 1)); }",
            "my ($type, $body) = ask(11, '');",
            "print 'IDENTITIES ', $type, ' ', unpack('N', $body), \"\\n\";",
            "my $key = substr($body, 8, unpack('N', substr($body, 4, 4)));",
            "my ($signed) = ask(13, pack('N', length $key) . $key . pack('N', 4) . 'data' . pack('N', 0));",
            "print \"SIGN $signed\\n\";", "");

    @Test
    void theSshAgentRelayServesARootlessCageAndRefusesAnUnboundSignature() throws Exception {
        Path files = user.home.resolve("ssh-test");
        user.asUser(List.of("mkdir", "-p", files.resolve("probe").toString()));
        Files.writeString(files.resolve("probe/agent.pl"), AGENT_PROBE);
        RootlessUser.run(List.of("chown", "-R", user.name + ":", files.toString()));
        user.asUser(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", files.resolve("user_key").toString()));
        user.asUser(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", files.resolve("host_key").toString()));
        Path knownHosts = files.resolve("known_hosts");
        user.asUser(List.of("sh", "-c", "printf 'sshhost.test %s\\n' \"$(cut -d' ' -f1,2 " + files.resolve("host_key.pub")
                + ")\" > " + knownHosts));
        Path agentSocket = files.resolve("agent.sock");
        Path audit = files.resolve("audit.jsonl");
        Process agent = new ProcessBuilder("runuser", "-u", user.name, "--", "ssh-agent", "-D", "-a", agentSocket.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            for (int i = 0; i < 100 && !Files.exists(agentSocket); i++) {
                Thread.sleep(50);
            }
            user.asUser(List.of("env", "SSH_AUTH_SOCK=" + agentSocket, "ssh-add", "-q", files.resolve("user_key").toString()));
            CageHarness.Result run = user.launchWith(Map.of("SSH_AUTH_SOCK", agentSocket.toString()),
                    "run", "--allow-unlimited", "--network", "filtered", "--rootfs", user.rootfs.toString(),
                    "--mount", files.resolve("probe") + ":/probe:ro", "--allowed-host", "sshhost.test:22",
                    "--ssh-agent", "--ssh-agent-host", "sshhost.test", "--ssh-known-hosts", knownHosts.toString(),
                    "--audit-log", audit.toString(), "--", "perl", "/probe/agent.pl");
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.stdout().contains("IDENTITIES 12 1\n"), "the cage reaches the relay, which lists the key: " + run);
            assertTrue(run.stdout().contains("SIGN 5\n"), "a signature with no session bound is refused: " + run);
            assertTrue(Files.readAllLines(audit).stream().anyMatch(line -> line.contains("\"source\":\"ssh-agent\"")
                    && line.contains("\"decision\":\"denied\"") && line.contains("refused to sign")),
                    "the refusal is audited: " + Files.readString(audit));
        } finally {
            agent.destroy();
            agent.waitFor(10, TimeUnit.SECONDS);
            new ProcessBuilder("pkill", "-u", user.name, "-x", "ssh-agent").start().waitFor(10, TimeUnit.SECONDS);
            RootlessUser.run(List.of("rm", "-rf", files.toString()));
        }
    }

    @Test
    void aRootlessCloneSessionWorksOnACopyThatDiffAndApplyBringBack() throws Exception {
        String name = "rootless-clone";
        Path repository = user.home.resolve("clone-repository");
        Path copy = user.home.resolve(".local/share/claude-cage-clones/" + name + "/workspace");
        String identity = "-c user.name=u -c user.email=u@test";
        user.asUser(List.of("sh", "-c", "git init -q -b main " + repository + " && cd " + repository
                + " && echo one > README && git add README && git " + identity + " commit -qm first"));
        try {
            startSession(name, "none", "--clone", "--mount", repository + ":/workspace");
            CageHarness.Result agent = user.launch("shell", name, "--", "sh", "-c",
                    "cat /workspace/README && echo agent > /workspace/NEW");
            assertEquals(0, agent.exitCode(), agent.toString());
            assertEquals("one\n", agent.stdout());
            assertFalse(Files.exists(repository.resolve("NEW")), "the cage wrote into the original");
            assertEquals(user.uid, Files.getAttribute(copy.resolve("NEW"), "unix:uid"), "the copy's files are the user's");
            // The agent's commit, made in the copy as git in the cage would make it (this minimal rootfs has no git).
            user.asUser(List.of("sh", "-c", "cd " + copy + " && git add NEW && git " + identity
                    + " commit -qm 'from the agent'"));

            CageHarness.Result diff = user.launch("diff", name);
            assertEquals(0, diff.exitCode(), diff.toString());
            assertTrue(diff.stdout().contains("from the agent") && diff.stdout().contains("+agent"), diff.toString());
            assertEquals(0, user.launch("stop", name, "--timeout", "1").exitCode());
            CageHarness.Result apply = user.launch("apply", name);
            assertEquals(0, apply.exitCode(), apply.toString());
            assertTrue(apply.stdout().contains("applied 1 commit(s) to main"), apply.toString());
            assertEquals("agent\n", Files.readString(repository.resolve("NEW")));
            assertEquals(user.uid, Files.getAttribute(repository.resolve("NEW"), "unix:uid"));
            assertEquals("from the agent", user.asUser(List.of("git", "-C", repository.toString(), "log", "-1",
                    "--format=%s")).strip());
        } finally {
            user.launch("destroy", "--timeout", "0", name);
            RootlessUser.run(List.of("rm", "-rf", repository.toString()));
        }
        assertFalse(Files.exists(copy.getParent()), "destroy removes the copy");
    }

    /** FROM debian:bookworm without root: debootstrap in the user's namespace, as in an LXC container. */
    @Test
    void aRootlessBuildMakesItsDebianBaseWithDebootstrap() throws Exception {
        Path context = user.home.resolve("debian-context");
        user.asUser(List.of("mkdir", "-p", context.toString()));
        user.asUser(List.of("sh", "-c", "printf 'FROM debian:bookworm\\nRUN echo built-rootless > /etc/built\\n' > "
                + context.resolve("Dockerfile")));
        try {
            CageHarness.Result built = user.launch("build", "--allow-unlimited", "-t", "rootless-debian", context.toString());
            assertEquals(0, built.exitCode(), built.toString());
            assertTrue(built.stdout().contains("Base system installed successfully"), built.toString());
            CageHarness.Result run = user.launch("run", "--allow-unlimited", "--image", "rootless-debian", "--network",
                    "none", "--", "sh", "-c", "cat /etc/built; . /etc/os-release; echo $VERSION_CODENAME; id -u");
            assertEquals("built-rootless\nbookworm\n1000\n", run.stdout(), run.toString());
        } finally {
            user.launch("image", "rm", "rootless-debian", "debian:bookworm");
            user.launch("image", "prune");
            RootlessUser.run(List.of("rm", "-rf", context.toString()));
        }
    }

    /** Root's cli image, saved by root and imported by the user: the real Claude Code in a rootless cage. */
    @Test
    void rootsCliImageSavedAndImportedRunsTheRealClaudeCodeRootless() throws Exception {
        CageHarness.requireCliImage();
        Path layout = user.home.resolve("cli-image");
        try {
            CageHarness.Result saved = CageHarness.launch(List.of("image", "save", "cli", "-o", layout.toString()));
            assertEquals(0, saved.exitCode(), saved.toString());
            CageHarness.Result imported = user.launch("image", "import", layout.toString(), "--name", "cli");
            assertEquals(0, imported.exitCode(), imported.toString());
            CageHarness.Result version = user.launch("run", "--allow-unlimited", "--image", "cli", "--network", "none",
                    "--", "sh", "-c", "claude --version; id -u; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status");
            assertEquals(0, version.exitCode(), version.toString());
            assertTrue(version.stdout().matches("(?s)\\d+\\.\\d+\\.\\d+ \\(Claude Code\\)\n1000\n.*"), version.toString());
            assertTrue(version.stdout().contains("CapEff:\t0000000000000000") && version.stdout().contains("NoNewPrivs:\t1")
                    && version.stdout().contains("Seccomp:\t2"), version.toString());
            System.out.println("rootless, from root's saved cli image: " + version.stdout().lines().findFirst().orElse(""));
        } finally {
            user.launch("image", "rm", "cli");
            RootlessUser.run(List.of("rm", "-rf", layout.toString()));
        }
    }

    /**
     * A rootless desktop session on root's desktop image, saved and imported: published on the
     * host's loopback through the supervisor's relay into the cage, and shown in Debian's headless
     * Chromium with the session's password.
     */
    @Test
    void aRootlessDesktopIsPublishedOnLoopbackAndShownInTheBrowser() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.claudecage.testing.HeadlessChromium.installed(),
                "Debian's chromium is not installed (scripts/install-deps.sh --tests installs it)");
        CageHarness.requireImage("desktop");
        Path layout = user.home.resolve("desktop-image");
        String name = "rootless-desktop";
        try {
            assertEquals(0, CageHarness.launch(List.of("image", "save", "desktop", "-o", layout.toString())).exitCode());
            CageHarness.Result imported = user.launch("image", "import", layout.toString(), "--name", "desktop");
            assertEquals(0, imported.exitCode(), imported.toString());
            int port = DesktopSessionIT.freePort();
            CageHarness.Result start = user.launch("start", "--detach", "--name", name, "--mode", "desktop",
                    "--network", "none", "--allow-unlimited", "--port", "127.0.0.1:" + port + ":6080",
                    "--env", "VNC_RESOLUTION=" + DesktopSessionIT.WIDTH + "x" + DesktopSessionIT.HEIGHT);
            assertEquals(0, start.exitCode(), start.toString());
            JsonNode status = Json.mapper().readTree(user.launch("status", "--json", name).stdout());
            String url = status.get("desktopUrl").asText();
            String password = status.get("desktopPassword").asText();
            for (String line : DesktopSessionIT.ss(port)) {
                assertTrue(line.contains(" 127.0.0.1:" + port + " "), "listens beyond 127.0.0.1: " + line);
            }
            DesktopSessionIT.awaitPage(url);
            try (var chromium = dev.claudecage.testing.HeadlessChromium.launch(DesktopSessionIT.WIDTH + 200,
                    DesktopSessionIT.HEIGHT + 200)) {
                JsonNode canvas = DesktopSessionIT.awaitDesktop(chromium.open(url + "?autoconnect=true&resize=off&password="
                        + password));
                assertTrue(DesktopSessionIT.showsDesktop(canvas), "the desktop is not shown: " + canvas);
            }
            assertEquals(0, user.launch("stop", "--timeout", "2", name).exitCode());
            assertEquals(List.of(), DesktopSessionIT.ss(port), "nothing listens once the session is stopped");
        } finally {
            user.launch("destroy", "--timeout", "0", name);
            user.launch("image", "rm", "desktop");
            RootlessUser.run(List.of("rm", "-rf", layout.toString()));
        }
    }

    /**
     * A key on the host: the rootless cage's home starts with Claude Code's first-run settings,
     * copied from the host's seed into a tmpfs home (as the cage's user, in its user namespace), and
     * merged into a persisted one as the user who owns it.
     */
    @Test
    void aRootlessCagesHomeStartsWithClaudeCodesFirstRunSettings() throws Exception {
        Map<String, String> key = Map.of("ANTHROPIC_API_KEY", "sk-ant-api03-rootless-first-run");
        String check = "grep -c hasCompletedOnboarding ~/.claude.json; stat -c 'home %u %a' ~;"
                + " stat -c 'file %u %a' ~/.claude.json; touch ~/written && echo home-writable";
        CageHarness.Result run = user.launchWith(key, "run", "--allow-unlimited", "--network", "filtered",
                "--rootfs", user.rootfs.toString(), "--", "sh", "-c", check);
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("1\nhome 1000 700\nfile 1000 600\nhome-writable\n", run.stdout(), run.toString());

        String name = "rootless-first-run";
        try {
            startSession(name, "filtered");
            user.launch("stop", name, "--timeout", "1");
            // startSession's launch had no key: again with one, as the user would.
            CageHarness.Result again = user.launchWith(key, "start", "--name", name, "--detach");
            assertEquals(0, again.exitCode(), again.toString());
            Path file = user.home.resolve(".local/share/claude-cage/sessions/" + name + "/home/.claude.json");
            assertTrue(Files.readString(file).contains("\"hasCompletedOnboarding\" : true"), Files.readString(file));
            assertEquals(user.uid, Files.getAttribute(file, "unix:uid"), "the file is the user's, as the home is");
        } finally {
            user.launch("destroy", name);
        }
    }

    @Test
    void aRootlessSessionStartsTakesAShellStopsKeepsItsHomeAndIsDestroyed() throws Exception {
        String name = "rootless-it";
        try {
            startSession(name, "none");
            CageHarness.Result list = user.launch("list");
            assertTrue(list.stdout().lines().anyMatch(line -> line.startsWith(name + " ") && line.contains("running")),
                    list.toString());

            CageHarness.Result shell = user.launch("shell", name, "--", "sh", "-c",
                    "id -u; echo kept > /home/claude/note; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status");
            assertEquals(0, shell.exitCode(), shell.toString());
            assertTrue(shell.stdout().startsWith("1000\n") && shell.stdout().contains("CapEff:\t0000000000000000")
                    && shell.stdout().contains("NoNewPrivs:\t1") && shell.stdout().contains("Seccomp:\t2"), shell.toString());

            CageHarness.Result status = user.launch("status", name);
            assertEquals(0, status.exitCode(), status.toString());
            assertTrue(status.stdout().contains("running"), status.toString());
            CageHarness.Result logs = user.launch("logs", name);
            assertEquals(0, logs.exitCode(), logs.toString());

            CageHarness.Result stop = user.launch("stop", name, "--timeout", "2");
            assertEquals(0, stop.exitCode(), stop.toString());
            Path note = user.home.resolve(".local/share/claude-cage/sessions/" + name + "/home/note");
            assertEquals("kept\n", Files.readString(note));
            assertEquals(user.uid, Files.getAttribute(note, "unix:uid"), "the persisted home is the user's");

            CageHarness.Result again = user.launch("start", "--name", name, "--detach");
            assertEquals(0, again.exitCode(), again.toString());
            CageHarness.Result read = user.launch("shell", name, "--", "cat", "/home/claude/note");
            assertEquals("kept\n", read.stdout(), read.toString());

            CageHarness.Result destroy = user.launch("destroy", name);
            assertEquals(0, destroy.exitCode(), destroy.toString());
            assertTrue(!Files.exists(note.getParent().getParent()), "destroy removed the session");
            assertTrue(user.launch("list").stdout().lines().noneMatch(line -> line.startsWith(name + " ")));
        } finally {
            user.launch("destroy", name);
        }
    }

    /** An OCI layout of the minbase rootfs (no device nodes: /dev is a tmpfs), made by root in the user's home. */
    private static Path minbaseLayout() throws Exception {
        Path layout = user.home.resolve("layout");
        Files.createDirectories(layout.resolve("blobs/sha256"));
        Path layer = user.home.resolve("layer.tar");
        Process tar = new ProcessBuilder("tar", "-C", CageHarness.ROOTFS.toString(), "-cf", layer.toString(),
                "--exclude=./dev/*", ".").inheritIO().start();
        assertEquals(0, tar.waitFor());
        String layerDigest = moveIntoBlobs(layout, layer);
        long layerSize = Files.size(layout.resolve("blobs/sha256").resolve(layerDigest));
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + layerDigest + "\"]}}";
        String configDigest = writeBlob(layout, config);
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + configDigest
                + "\",\"size\":" + config.length() + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                + "\"digest\":\"sha256:" + layerDigest + "\",\"size\":" + layerSize + "}]}";
        String manifestDigest = writeBlob(layout, manifest);
        Files.writeString(layout.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" + manifestDigest + "\",\"size\":"
                + manifest.length() + "}]}");
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\": \"1.0.0\"}");
        return layout;
    }

    private static String writeBlob(Path layout, String content) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8)));
        Files.writeString(layout.resolve("blobs/sha256").resolve(hex), content);
        return hex;
    }

    private static String moveIntoBlobs(Path layout, Path file) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                sha256.update(buffer, 0, read);
            }
        }
        String hex = HexFormat.of().formatHex(sha256.digest());
        Files.move(file, layout.resolve("blobs/sha256").resolve(hex));
        return hex;
    }

    @Test
    void theUserImportsAndBuildsImagesOfItsOwnRunsThemAndRemovesThem() throws Exception {
        Path layout = minbaseLayout();
        CageHarness.Result imported = user.launch("image", "import", layout.toString(), "--name", "minbase-rootless");
        assertEquals(0, imported.exitCode(), imported.toString());
        Path store = user.home.resolve(".local/share/claude-cage/images");
        assertEquals(user.uid, Files.getAttribute(store.resolve("names.json"), "unix:uid"), "the store's own files are the user's");
        CageHarness.Result images = user.launch("images");
        assertTrue(images.stdout().contains("minbase-rootless:latest"), images.toString());

        CageHarness.Result run = user.launch("run", "--allow-unlimited", "--network", "none", "--image", "minbase-rootless",
                "--", "stat", "-c", "%n %u:%g %A", "/etc/shadow", "/usr/bin/passwd");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.stdout().contains("/etc/shadow 0:42 -rw-r-----"), "the image's owners, as the cage sees them: " + run);
        assertTrue(run.stdout().contains("/usr/bin/passwd 0:0 -rwsr-xr-x"), run.toString());

        Path context = user.home.resolve("context");
        Files.createDirectories(context);
        Files.writeString(context.resolve("Dockerfile"), String.join("\n", "FROM minbase-rootless",
                "RUN echo built > /built && /usr/sbin/useradd -m -u 2000 bob", "USER bob", "RUN touch /home/bob/mine", ""));
        CageHarness.Result refused = user.launch("build", "-t", "built-rootless", context.toString());
        assertTrue(refused.exitCode() != 0 && refused.stderr().contains("cpus=2, memory=4g, pids_limit=1024"),
                "a build's steps have the same limits: " + refused);
        CageHarness.Result built = user.launch("build", "--allow-unlimited", "-t", "built-rootless", context.toString());
        assertEquals(0, built.exitCode(), built.toString());
        CageHarness.Result runBuilt = user.launch("run", "--allow-unlimited", "--network", "none", "--image", "built-rootless",
                "--", "stat", "-c", "%n %u:%g", "/built", "/home/bob", "/home/bob/mine");
        assertEquals(0, runBuilt.exitCode(), runBuilt.toString());
        assertTrue(runBuilt.stdout().contains("/built 0:0\n/home/bob 2000:2000\n/home/bob/mine 2000:2000"),
                "what RUN made belongs to whom it made it for: " + runBuilt);

        CageHarness.Result removed = user.launch("image", "rm", "built-rootless", "minbase-rootless");
        assertEquals(0, removed.exitCode(), removed.toString());
        CageHarness.Result pruned = user.launch("image", "prune");
        assertEquals(0, pruned.exitCode(), pruned.toString());
        try (var layers = Files.list(store.resolve("layers"))) {
            assertEquals(0, layers.count(), "the layer, whose files belong to subordinate ids, is gone");
        }
    }

    @Test
    void gcRemovesWhatALauncherKilledWithSigkillLeft() throws Exception {
        Process launcher = new ProcessBuilder(user.commandAsUser(List.of("run", "--allow-unlimited", "--network", "filtered",
                "--rootfs", user.rootfs.toString(), "--", "sh", "-c", "echo started; exec sleep 2")))
                .directory(user.home.toFile()).redirectErrorStream(true).start();
        try {
            BufferedReader stdout = new BufferedReader(new InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8));
            String line = stdout.readLine();
            // The launcher's own warnings (no API key on the host) come first.
            while (line != null && line.startsWith("claude-cage: ")) {
                line = stdout.readLine();
            }
            assertEquals("started", line, "the cage did not start");
            ProcessHandle jvm = launcher.toHandle().descendants()
                    .filter(process -> process.info().commandLine().orElse("").contains("claude-cage.jar"))
                    .findFirst().orElseThrow(() -> new AssertionError("no launcher JVM under " + launcher.pid()));
            jvm.destroyForcibly();
            assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "runuser did not end with its JVM");
            // The cage runs on to the end of its command, as a root-mode cage does; bounded wait for that.
            for (int i = 0; i < 100 && !user.processes().isEmpty(); i++) {
                Thread.sleep(100);
            }
            assertEquals(List.of(), user.processes(), "the cage's command ended");
            // The relay runs as the namespace's root, a subordinate id: it ends with the pipe from its launcher.
            for (int i = 0; i < 100 && !relays().isEmpty(); i++) {
                Thread.sleep(100);
            }
            assertEquals(List.of(), relays(), "the cage's relay outlived its launcher");
            assertTrue(!user.leftovers().isEmpty(), "the killed launcher left its cage's folders (gc's positive control)");

            CageHarness.Result gc = user.launch("gc");
            assertEquals(0, gc.exitCode(), gc.toString());
            assertTrue(gc.stdout().contains("removed "), gc.toString());
        } finally {
            launcher.destroyForcibly();
        }
    }

    /** The rootless cages' relays on this host (claude-cage's LoopbackRelay JVMs). */
    private static List<String> relays() {
        return ProcessHandle.allProcesses()
                .map(process -> process.pid() + " " + process.info().commandLine().orElse(""))
                .filter(line -> line.contains("dev.claudecage.net.cage.LoopbackRelay"))
                .toList();
    }
}
