package dev.claudecage.it;

import com.sun.net.httpserver.HttpServer;
import dev.claudecage.host.Netns;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.verify.Canary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code claude-cage gateway serve} as a cluster runs it, on this host: the gateway alone in a network
 * namespace of the test's, a cage led to it with {@code --network gateway:ADDRESS}, an allowed web host
 * and a canary each in a namespace of their own. The cage behaves as a filtered cage: the allowed host
 * answers through the gateway, names resolve at the gateway, and every way to the canary fails, on the
 * canary's own record; the gateway's audit log says why.
 */
class StandaloneGatewayIT {

    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");
    private static final Path LAUNCHER = Path.of("bin/claude-cage").toAbsolutePath();

    private static String forwardingBefore;
    private static TestNetwork internet;
    private static TestNetwork.TestHost gatewayHost;
    private static TestNetwork.TestHost webHost;
    private static TestNetwork.TestHost canaryHost;
    private static HttpServer web;
    private static final AtomicInteger WEB_HITS = new AtomicInteger();
    private static Canary canary;
    private static Process gateway;
    private static Path audit;
    private static Path gatewayOutput;

    @BeforeAll
    static void buildTheClusterInMiniature() throws Exception {
        CageHarness.requireRootAndRootfs();
        assertEquals(List.of(), NetworkLeftovers.list(), "network state from before this test");
        // The host forwards the cage's packets to the gateway's namespace (the cage's own table lets only those
        // through); the old setting comes back after the class.
        forwardingBefore = Files.readString(IP_FORWARD).strip();
        Files.writeString(IP_FORWARD, "1");
        internet = new TestNetwork("sgw");
        gatewayHost = internet.addHost("gw");
        webHost = internet.addHost("web");
        canaryHost = internet.addHost("canary");
        web = Netns.call(webHost.namespace(), () -> {
            HttpServer server = HttpServer.create(new InetSocketAddress(webHost.address4(), 80), 8);
            server.createContext("/", exchange -> {
                WEB_HITS.incrementAndGet();
                byte[] body = "hello from the web host\n".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
            return server;
        });
        canary = Netns.call(canaryHost.namespace(), () -> Canary.open(
                List.of(canaryHost.address4(), canaryHost.address6()), List.of(80, 443), List.of(53)));
        Path dir = Files.createTempDirectory("standalone-gateway-it");
        audit = dir.resolve("audit.jsonl");
        gatewayOutput = dir.resolve("gateway.out");
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", gatewayHost.namespace(),
                "env", "--default-signal=INT,TERM,HUP", LAUNCHER.toString(), "gateway", "serve",
                "--listen", gatewayHost.address4(), "--audit-log", audit.toString(), "--state-dir", dir.resolve("state").toString(),
                "--allowed-host", "web.test:80", "--resolve", "web.test=" + webHost.address4(),
                "--resolve", "canary.test=" + canaryHost.address4()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(gatewayOutput.toFile());
        builder.environment().put("CLAUDE_CAGE_JAR", System.getProperty("claudecage.jar",
                Path.of("target/claude-cage.jar").toAbsolutePath().toString()));
        builder.environment().put("XDG_CONFIG_HOME", "/nonexistent-claude-cage-test-config");
        builder.environment().keySet().removeIf(key -> key.startsWith("CLAUDE_CAGE_") && !key.equals("CLAUDE_CAGE_JAR")
                || key.equals("ANTHROPIC_API_KEY") || key.equals("CLAUDE_CODE_OAUTH_TOKEN"));
        gateway = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(gatewayOutput).contains("claude-cage gateway: listening")) {
            assertTrue(gateway.isAlive(), "the gateway ended: " + Files.readString(gatewayOutput));
            assertTrue(System.nanoTime() < deadline, "the gateway did not listen within 60s: " + Files.readString(gatewayOutput));
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (gateway != null) {
                gateway.destroy();
                if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
                    gateway.destroyForcibly();
                    gateway.waitFor(10, TimeUnit.SECONDS);
                }
            }
            if (web != null) {
                web.stop(0);
            }
            if (canary != null) {
                canary.close();
            }
            if (internet != null) {
                internet.close();
            }
        } finally {
            if (forwardingBefore != null) {
                Files.writeString(IP_FORWARD, forwardingBefore);
            }
        }
        assertEquals(List.of(), NetworkLeftovers.list(), "the test left network state behind");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "the cage left something behind");
        assertEquals(List.of(), NetworkLeftovers.listExcept("sgw"), "the cage left network state behind");
    }

    private static String viaProxy(String request) {
        return "timeout 15 bash -c 'exec 3<>/dev/tcp/$ph/$pp && printf \"" + request + "\" >&3 && cat <&3'\n";
    }

    @Test
    void aCageLedToAStandaloneGatewayIsAFilteredCage() throws Exception {
        canary.takeHits();
        int webHitsBefore = WEB_HITS.get();
        String script = "p=${HTTPS_PROXY#http://}; export ph=${p%:*} pp=${p##*:}\n"
                + "echo \"proxy=$ph:$pp\"\n"
                + "echo \"resolv=$(grep nameserver /etc/resolv.conf)\"\n"
                + "echo \"web.test=$(getent hosts web.test)\"\n"
                + "getent hosts canary.test || echo 'canary.test: no such name'\n"
                + viaProxy("GET http://web.test/ HTTP/1.1\\r\\nHost: web.test\\r\\nConnection: close\\r\\n\\r\\n")
                + viaProxy("CONNECT canary.test:443 HTTP/1.1\\r\\nHost: canary.test:443\\r\\n\\r\\n")
                + viaProxy("GET http://canary.test/ HTTP/1.1\\r\\nHost: canary.test\\r\\nConnection: close\\r\\n\\r\\n")
                // Each direct attempt is bounded: through a hole, a reply that the walls drop would hang the connect.
                + "timeout 5 bash -c 'echo > /dev/tcp/" + canaryHost.address4() + "/80' 2>&1 | tail -1\n"
                + "timeout 5 bash -c 'echo > /dev/tcp/" + canaryHost.address6() + "/443' 2>&1 | tail -1\n"
                + "timeout 5 bash -c 'echo probe > /dev/udp/" + canaryHost.address4() + "/53' 2>&1 | tail -1\n"
                + "timeout 5 bash -c 'echo > /dev/tcp/" + webHost.address4() + "/80' 2>&1 | tail -1 | sed 's/^/direct-web: /'\n"
                + "exit 0";
        CageHarness.Result result = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(),
                "--network", "gateway:" + gatewayHost.address4(), "--", "bash", "-c", script), "", Map.of(),
                Duration.ofMinutes(2));
        System.out.println(result);
        assertEquals(0, result.exitCode(), result.toString());
        String out = result.stdout();
        assertTrue(out.contains("proxy=" + gatewayHost.address4() + ":3128"), "the cage's proxy is the gateway: " + out);
        assertTrue(out.contains("resolv=nameserver " + gatewayHost.address4()), "its nameserver is the gateway: " + out);
        assertTrue(out.contains("web.test=" + gatewayHost.address4() + " "), "the gateway's DNS stub answered: " + out);
        assertTrue(out.contains("canary.test: no such name"), out);
        assertTrue(out.contains("hello from the web host"), "the allowed host answered through the gateway: " + out);
        assertTrue(WEB_HITS.get() > webHitsBefore, "the web host saw the request");
        assertEquals(2, out.lines().filter(line -> line.startsWith("HTTP/1.1 403")).count(), out);
        assertTrue(out.lines().anyMatch(line -> line.startsWith("direct-web: ") && !line.contains("hello")),
                "the web host is reached through the gateway only: " + out);
        Thread.sleep(500);
        assertEquals(List.of(), canary.takeHits(), "the canary was reached");
        assertEquals(1, WEB_HITS.get() - webHitsBefore, "the direct way to the web host did not reach it");
        List<AuditEvent> events = AuditLog.read(audit);
        assertTrue(events.stream().anyMatch(e -> e.source().equals("proxy") && "web.test".equals(e.destination())
                && e.decision().equals(AuditEvent.ALLOWED)), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.source().equals("proxy") && "canary.test".equals(e.destination())
                && e.decision().equals(AuditEvent.DENIED)), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.source().equals("dns") && "canary.test".equals(e.destination())
                && e.decision().equals(AuditEvent.DENIED)), events.toString());
    }

    /**
     * Positive control: the host does forward between the test's namespaces, so a packet of the cage's that
     * did not reach the canary was stopped by the cage's walls, not by a missing route; and the canary records
     * a connection that reaches it, so its silence above means something.
     */
    @Test
    void positiveControlTheCanaryRecordsAConnectionForwardedToItFromTheGatewaysNamespace() throws Exception {
        canary.takeHits();
        Netns.call(gatewayHost.namespace(), () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(canaryHost.address4(), 80), 5000);
                socket.getOutputStream().write("probe\n".getBytes(StandardCharsets.UTF_8));
            }
            return null;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<String> hits = new ArrayList<>();
        while (hits.isEmpty() && System.nanoTime() < deadline) {
            hits.addAll(canary.takeHits());
            Thread.sleep(50);
        }
        assertFalse(hits.isEmpty(), "the canary saw nothing of a connection that reached it");
        assertTrue(hits.get(0).contains("from " + gatewayHost.address4()), hits.toString());
    }
}
