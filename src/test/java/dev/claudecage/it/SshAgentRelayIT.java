package dev.claudecage.it;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.testing.TestNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SSH agent relay with real OpenSSH: a test sshd on each of two test hosts (each with a host key of
 * its own, both accepting the same test user key), and a test ssh-agent holding that key. From a cage
 * with --ssh-agent and only sshhost.test in ssh_agent_hosts: ssh to sshhost.test logs in through the
 * relay; ssh to the canary, which the network allows and whose key is in the same known_hosts file,
 * gets no signature, and the canary's sshd records no login. Without --ssh-agent nothing is forwarded.
 */
class SshAgentRelayIT {

    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final Path PRIVSEP_DIR = Path.of("/run/sshd");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path shared;

    private static final ProcessRunner RUNNER = new ProcessRunner(false);
    private static TestNetwork internet;
    private static TestNetwork.TestHost sshHost;
    private static TestNetwork.TestHost canaryHost;
    private static TestSshd sshd;
    private static TestSshd canary;
    private static Process agent;
    private static Path agentSocket;
    private static Path knownHosts;
    private static boolean madePrivsepDir;

    /** A test sshd in a test host's namespace, its log (stderr) collected. */
    private record TestSshd(Process process, StringBuffer log) {
        static TestSshd start(TestNetwork.TestHost host, String name, Path dir, Path authorizedKeys) throws Exception {
            Path hostKey = dir.resolve(name + "_host_key");
            RUNNER.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", hostKey.toString()), TIMEOUT);
            Path config = dir.resolve(name + "_sshd_config");
            Files.writeString(config, String.join("\n",
                    "ListenAddress " + host.address4() + ":22",
                    "HostKey " + hostKey,
                    "PidFile none",
                    "AuthorizedKeysFile " + authorizedKeys,
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin prohibit-password",
                    "AllowUsers root",
                    // Whoever logs in runs this and nothing else.
                    "ForceCommand echo logged-in-to-" + name,
                    "LogLevel VERBOSE", ""));
            Process process = RUNNER.startBackground(List.of("ip", "netns", "exec", host.namespace(), SSHD.toString(),
                    "-D", "-e", "-f", config.toString()));
            StringBuffer log = new StringBuffer();
            collect(process.getErrorStream(), log);
            collect(process.getInputStream(), log);
            TestSshd sshd = new TestSshd(process, log);
            for (int i = 0; i < 100 && !log.toString().contains("Server listening"); i++) {
                Thread.sleep(100);
            }
            assertTrue(log.toString().contains("Server listening"), "the test sshd did not start: " + log);
            return sshd;
        }

        String hostKeyLine(Path dir, String name, String hostName) throws IOException {
            String[] pub = Files.readString(dir.resolve(name + "_host_key.pub")).strip().split(" ");
            return hostName + " " + pub[0] + " " + pub[1];
        }

        void stop() throws InterruptedException {
            process.destroy();
            process.waitFor();
        }
    }

    private static void collect(InputStream in, StringBuffer into) {
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try (in) {
                for (int read; (read = in.read(buffer)) >= 0; ) {
                    into.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // The process ended.
            }
        }, "test-sshd-log");
        reader.setDaemon(true);
        reader.start();
    }

    @BeforeAll
    static void buildTheInternet() throws Exception {
        CageHarness.requireRootAndRootfs();
        boolean hasSshd = Files.isExecutable(SSHD);
        if (!hasSshd) {
            System.out.println("SKIPPED: no " + SSHD + " (scripts/install-deps.sh installs openssh-server)");
        }
        Assumptions.assumeTrue(hasSshd, "no " + SSHD + " (scripts/install-deps.sh installs openssh-server)");
        CageHarness.requireCliImage();
        if (!Files.isDirectory(PRIVSEP_DIR)) {
            Files.createDirectory(PRIVSEP_DIR);
            madePrivsepDir = true;
        }
        Path userKey = shared.resolve("user_key");
        RUNNER.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cage-test-user", "-f", userKey.toString()),
                TIMEOUT);
        Path authorizedKeys = shared.resolve("authorized_keys");
        Files.copy(shared.resolve("user_key.pub"), authorizedKeys);
        internet = new TestNetwork("sshr");
        sshHost = internet.addHost("ssh");
        canaryHost = internet.addHost("canary");
        sshd = TestSshd.start(sshHost, "sshhost", shared, authorizedKeys);
        canary = TestSshd.start(canaryHost, "canary", shared, authorizedKeys);
        // The user knows both servers: listing the canary's key in known_hosts is not what lets the agent sign.
        knownHosts = shared.resolve("known_hosts");
        Files.writeString(knownHosts, sshd.hostKeyLine(shared, "sshhost", "sshhost.test") + "\n"
                + canary.hostKeyLine(shared, "canary", "canary.test") + "\n");
        agentSocket = shared.resolve("agent.sock");
        agent = RUNNER.startBackground(List.of("ssh-agent", "-D", "-a", agentSocket.toString()));
        for (int i = 0; i < 100 && !Files.exists(agentSocket); i++) {
            Thread.sleep(50);
        }
        RUNNER.run(List.of("env", "SSH_AUTH_SOCK=" + agentSocket, "ssh-add", "-q", userKey.toString()), TIMEOUT);
    }

    @AfterAll
    static void tearDownTheInternet() throws Exception {
        if (agent != null) {
            agent.destroy();
            agent.waitFor();
        }
        if (sshd != null) {
            sshd.stop();
        }
        if (canary != null) {
            canary.stop();
        }
        if (internet != null) {
            internet.close();
        }
        if (madePrivsepDir) {
            Files.deleteIfExists(PRIVSEP_DIR);
        }
    }

    @BeforeEach
    void hostIsClean() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the host holds cage leftovers before the test");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
        assertEquals(List.of(), NetworkLeftovers.listExcept("sshr"), "the cage left network state behind");
    }

    @Test
    void theRelaySignsForTheListedHostOnlyAndAuditsEachUse(@TempDir Path dir) throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        String ssh = "eval \"$GIT_SSH_COMMAND -o BatchMode=yes -o ConnectTimeout=10 -o IdentitiesOnly=no ";
        String script = String.join("\n",
                // The test's own ssh client: the host's, so that the test does not depend on the image having one.
                "export PATH=/tmp/sshbin:$PATH",
                "ssh -V 2>&1",
                "echo \"sock=$SSH_AUTH_SOCK\"",
                ssh + "root@sshhost.test\" </dev/null 2>&1; echo SSH_EXIT=$?",
                ssh + "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@canary.test\" </dev/null 2>&1; "
                        + "echo CANARY_EXIT=$?",
                "exit 0");
        List<String> args = new ArrayList<>(List.of("run", "--image", "cli", "--network", "filtered",
                "--allowed-host", "sshhost.test:22", "--allowed-host", "canary.test:22",
                "--resolve", "sshhost.test=" + sshHost.address4(), "--resolve", "canary.test=" + canaryHost.address4(),
                "--ssh-agent", "--ssh-agent-host", "sshhost.test", "--ssh-known-hosts", knownHosts.toString(),
                "--mount", sshClientDir() + ":/tmp/sshbin:ro", "--audit-log", audit.toString(),
                "--", "bash", "-c", script));
        CageHarness.Result result = CageHarness.launch(args, "", Map.of("SSH_AUTH_SOCK", agentSocket.toString()),
                Duration.ofMinutes(3));
        System.out.println(result);
        System.out.println("--- sshhost log\n" + sshd.log() + "--- canary log\n" + canary.log());
        System.out.println("--- audit\n" + Files.readString(audit));
        assertEquals(0, result.exitCode(), result.toString());
        String out = result.stdout();
        assertTrue(out.contains("sock=/run/claude-cage-ssh/agent.sock"), out);
        assertTrue(out.contains("logged-in-to-sshhost"), out);
        assertTrue(out.contains("SSH_EXIT=0"), out);
        assertFalse(out.contains("logged-in-to-canary"), out);
        assertFalse(out.contains("CANARY_EXIT=0"), out);
        assertTrue(sshd.log().toString().contains("Accepted publickey for root"), sshd.log().toString());
        assertFalse(canary.log().toString().contains("Accepted publickey"), "the canary saw a login: " + canary.log());

        List<AuditEvent> events = AuditLog.read(audit);
        List<AuditEvent> agentEvents = events.stream().filter(e -> e.source().equals("ssh-agent")).toList();
        assertTrue(agentEvents.stream().anyMatch(e -> e.decision().equals(AuditEvent.ALLOWED)
                && "sshhost.test".equals(e.destination()) && e.reason().startsWith("signed with key SHA256:")),
                agentEvents.toString());
        assertTrue(agentEvents.stream().anyMatch(e -> e.decision().equals(AuditEvent.DENIED)
                && e.reason().contains("belongs to no host in ssh_agent_hosts")), agentEvents.toString());
        assertTrue(agentEvents.stream().noneMatch(e -> e.decision().equals(AuditEvent.ALLOWED)
                && !"sshhost.test".equals(e.destination())), agentEvents.toString());
    }

    /** The host's ssh client, alone in a folder of the test's, for the cage to run. */
    private static Path sshClientDir() throws IOException {
        Path dir = shared.resolve("sshbin");
        if (!Files.exists(dir)) {
            Files.createDirectory(dir);
            Files.copy(Path.of("/usr/bin/ssh"), dir.resolve("ssh"));
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(dir.resolve("ssh"),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return dir;
    }

    private static final String SESSION = "it-sshagent";

    @Test
    void aSessionKeepsTheRelayAcrossItsShells() throws Exception {
        CageHarness.cage("destroy", "--timeout", "0", SESSION);
        try {
            CageHarness.Result start = CageHarness.launch(List.of("start", "--detach", "--name", SESSION,
                    "--image", "cli", "--network", "filtered", "--allowed-host", "sshhost.test:22",
                    "--resolve", "sshhost.test=" + sshHost.address4(), "--ssh-agent", "--ssh-agent-host", "sshhost.test",
                    "--ssh-known-hosts", knownHosts.toString(), "--mount", sshClientDir() + ":/tmp/sshbin:ro",
                    "--", "sleep", "600"), "", Map.of("SSH_AUTH_SOCK", agentSocket.toString()), Duration.ofMinutes(2));
            assertEquals(0, start.exitCode(), start.toString());
            CageHarness.Result shell = CageHarness.cage("shell", SESSION, "--", "bash", "-c",
                    "export PATH=/tmp/sshbin:$PATH; eval \"$GIT_SSH_COMMAND -o BatchMode=yes root@sshhost.test\" </dev/null");
            assertEquals(0, shell.exitCode(), shell.toString());
            assertTrue(shell.stdout().contains("logged-in-to-sshhost"), shell.toString());
            CageHarness.Result audit = CageHarness.cage("logs", "--audit", SESSION);
            assertTrue(audit.stdout().contains("\"source\":\"ssh-agent\""), audit.toString());
        } finally {
            CageHarness.Result destroy = CageHarness.cage("destroy", "--timeout", "0", SESSION);
            assertEquals(0, destroy.exitCode(), destroy.toString());
        }
    }

    @Test
    void aRelayThatCouldNotSignForAnyoneIsABadRequest(@TempDir Path dir) {
        List<String> base = List.of("run", "--rootfs", ROOTFS.toString(), "--network", "filtered",
                "--audit-log", dir.resolve("audit.jsonl").toString(), "--ssh-agent", "--ssh-known-hosts", knownHosts.toString());
        Map<List<String>, String> cases = Map.of(
                List.of("--allowed-host", "sshhost.test:22"), "without ssh_agent_hosts would refuse every signature",
                List.of("--ssh-agent-host", "sshhost.test"), "ssh_agent_hosts names sshhost.test, which allowed_hosts does not allow",
                List.of("--allowed-host", "nokey.test:22", "--ssh-agent-host", "nokey.test"), "nokey.test, which has no key in");
        cases.forEach((extra, message) -> {
            List<String> args = new ArrayList<>(base);
            args.addAll(extra);
            args.addAll(List.of("--", "true"));
            CageHarness.Result result = CageHarness.launch(args, "", Map.of("SSH_AUTH_SOCK", agentSocket.toString()),
                    Duration.ofMinutes(1));
            assertEquals(2, result.exitCode(), result.toString());
            assertTrue(result.stderr().contains(message), result.toString());
        });
        List<String> args = new ArrayList<>(base);
        args.addAll(List.of("--allowed-host", "sshhost.test:22", "--ssh-agent-host", "sshhost.test", "--", "true"));
        CageHarness.Result noAgent = CageHarness.launch(args, "", Map.of("SSH_AUTH_SOCK", ""), Duration.ofMinutes(1));
        assertEquals(2, noAgent.exitCode(), noAgent.toString());
        assertTrue(noAgent.stderr().contains("SSH_AUTH_SOCK is not set"), noAgent.toString());
        CageHarness.Result noFilter = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--ssh-agent", "--", "true"), "", Map.of(), Duration.ofMinutes(1));
        assertEquals(2, noFilter.exitCode(), noFilter.toString());
        assertTrue(noFilter.stderr().contains("ssh_agent: the SSH agent relay needs network: filtered, not none"),
                noFilter.toString());
    }

    @Test
    void withoutTheFlagNoAgentIsForwarded(@TempDir Path dir) {
        CageHarness.Result result = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network",
                "filtered", "--audit-log", dir.resolve("audit.jsonl").toString(), "--", "sh", "-c",
                "echo \"sock=${SSH_AUTH_SOCK:-none}\"; ls /run/claude-cage-ssh 2>&1 | head -1"), "",
                Map.of("SSH_AUTH_SOCK", agentSocket.toString()), Duration.ofMinutes(2));
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("sock=none"), result.toString());
        assertTrue(result.stdout().contains("No such file or directory"), result.toString());
    }
}
