package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.testing.HeadlessChromium;
import dev.claudecage.testing.Screenshots;
import dev.claudecage.testing.mockapi.MockAnthropicApi;
import dev.claudecage.testing.mockapi.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Desktop mode end to end, with real runc and Debian's headless Chromium: a desktop session
 * published on the host's loopback only, opened in the browser through noVNC with the session's
 * password (the screenshot shows the desktop and the terminal with Claude Code's prompt ready, its
 * API behind the gateway a mock on the host's loopback), refused with a wrong one; each test ends
 * with nothing left on the host.
 */
@ExtendWith(CleanSessionHost.class)
class DesktopSessionIT {

    private static final Duration TERMINAL_WAIT = Duration.ofSeconds(60);
    static final int WIDTH = 1024;
    static final int HEIGHT = 768;
    /** The desktop's background and the terminal's, as docker/desktop/entrypoint-desktop.sh sets them. */
    private static final int DESKTOP = 0x2f5d8a;
    private static final int TERMINAL = 0x1c1c1c;
    /** Where the screenshots go, to look at when a test fails. */
    private static final Path SHOTS = Path.of("target", "desktop-it");

    private static final List<String> SESSIONS = List.of("it-desktop", "it-desktop-filtered", "it-desktop-refused",
            "it-desktop-page");
    private static final String REAL_KEY = "sk-ant-api03-desktop-" + Long.toHexString(System.nanoTime());

    /** The API behind the desktop's gateway. */
    private static MockAnthropicApi api;

    /**
     * Run in the page before its own scripts: records what the page's Content-Security-Policy
     * blocks, so that a test sees noVNC work under it without anything refused.
     */
    static final String RECORD_POLICY_VIOLATIONS = "window.policyViolations = [];"
            + " document.addEventListener('securitypolicyviolation',"
            + " e => window.policyViolations.push(e.effectiveDirective + ' ' + e.blockedURI));";
    static final String POLICY_VIOLATIONS = "JSON.stringify(window.policyViolations)";

    /** What the agent's own page says, so that the browser's page can be searched for it. */
    private static final String AGENT_PAGE = "the-agents-own-desktop-page";

    /**
     * Run in the cage as its user: finds the processes that hold the socket listening on
     * 127.0.0.1:PORT (/proc/net/tcp, then every /proc/PID/fd), kills them, and starts COMMAND in the
     * background, detached from the shell; exits once COMMAND listens on that port.
     */
    private static final String TAKE_PORT = """
            my ($port, @command) = @ARGV;
            my $address = sprintf('0100007F:%04X', $port);
            sub listener {
                open(my $table, '<', '/proc/net/tcp') or die "/proc/net/tcp: $!";
                while (<$table>) { my @f = split; return $f[9] if $f[1] eq $address && $f[3] eq '0A'; }
                return undef;
            }
            my $inode = listener();
            if (defined $inode) {
                for my $fd (glob('/proc/[0-9]*/fd/*')) {
                    my $target = readlink($fd);
                    kill('KILL', $1) if defined $target && $target eq "socket:[$inode]" && $fd =~ m{^/proc/(\\d+)/};
                }
            }
            for (1 .. 100) { last unless defined listener(); select(undef, undef, undef, 0.1); }
            die "port $port is still taken\\n" if defined listener();
            defined(my $pid = fork()) or die "fork: $!";
            if ($pid == 0) {
                POSIX::setsid();
                open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
                exec(@command) or exit(127);
            }
            for (1 .. 100) { exit 0 if defined listener(); select(undef, undef, undef, 0.1); }
            die "@command does not listen on port $port\\n";
            """;

    /** The agent's web server: its own page, with its own script, for every request on 127.0.0.1:PORT. */
    private static final String AGENT_SERVER = """
            use IO::Socket::INET;
            my ($port, $marker) = @ARGV;
            my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16,
                ReuseAddr => 1) or die "listen: $!";
            while (my $client = $server->accept()) {
                while (my $line = <$client>) { last if $line =~ /^\\r?$/; }
                print $client "HTTP/1.0 200 OK\\r\\nContent-Type: text/html\\r\\nConnection: close\\r\\n\\r\\n"
                    . "<html><head><title>$marker</title><script>document.title = '$marker';</script></head>"
                    . "<body><p id='noVNC_status'>$marker</p></body></html>";
                close($client);
            }
            """;

    /** Fetches http://127.0.0.1:PORT/vnc.html inside the cage and prints the answer. */
    private static final String FETCH_INSIDE = """
            use IO::Socket::INET;
            my $socket = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ARGV[0], Timeout => 5)
                or die "connect: $!";
            print $socket "GET /vnc.html HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n";
            print while <$socket>;
            """;

    private String session;

    @BeforeAll
    static void startTheApi() {
        api = MockAnthropicApi.builder().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .script(Script.of()).start();
    }

    @AfterAll
    static void stopTheApi() {
        if (api != null) {
            api.close();
        }
    }

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        assumeTrue(HeadlessChromium.installed(), "Debian's chromium is not installed (scripts/install-deps.sh installs it)");
        CageHarness.requireImage("desktop");
        Files.createDirectories(SHOTS);
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        if (session != null) {
            cage("destroy", "--timeout", "0", session);
            assertFalse(Files.exists(CageHarness.SESSION_DATA.resolve(session)), session + " left its data folder");
            assertFalse(Files.exists(CageHarness.SESSION_RUN.resolve(session)), session + " left its run folder");
        }
    }

    @Test
    void desktopInTheBrowserWithThePasswordAndRefusedWithoutIt() throws Exception {
        int port = freePort();
        session = SESSIONS.get(0);
        // As a user starts it, with a key on the host; api.anthropic.com is off the allowlist, so the
        // direct route to the API host is closed (and the proxy never looks the name up).
        CageHarness.Result start = cage(Map.of("ANTHROPIC_API_KEY", REAL_KEY), "start", "--detach", "--name", session,
                "--mode", "desktop", "--api-upstream", api.baseUrl().toString(), "--allowed-host", "desktop.test",
                "--port", "127.0.0.1:" + port + ":6080", "--env", "VNC_RESOLUTION=" + WIDTH + "x" + HEIGHT);
        assertEquals(0, start.exitCode(), start.toString());
        JsonNode status = Json.mapper().readTree(cage("status", "--json", session).stdout());
        String password = status.path("desktopPassword").asText();
        String url = status.path("desktopUrl").asText();
        assertEquals("http://127.0.0.1:" + port + "/vnc.html", url);
        assertEquals(8, password.length(), status.toString());
        assertTrue(start.stdout().contains("desktop:  " + url) && start.stdout().contains("password: " + password),
                start.toString());
        assertEquals("desktop", status.path("image").asText());

        // The host sees one listening socket on that port, on 127.0.0.1 and nowhere else.
        List<String> listening = ss(port);
        assertFalse(listening.isEmpty(), "nothing listens on port " + port);
        for (String line : listening) {
            assertTrue(line.contains(" 127.0.0.1:" + port + " "), "listens beyond 127.0.0.1: " + listening);
        }
        Path stateFile = CageHarness.SESSION_DATA.resolve(session).resolve("desktop.json");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(stateFile)));

        awaitPage(url);
        try (HeadlessChromium chromium = HeadlessChromium.launch(WIDTH + 200, HEIGHT + 200)) {
            HeadlessChromium.Page page = chromium.open(url + "?autoconnect=true&resize=off&password=" + password,
                    RECORD_POLICY_VIOLATIONS);
            JsonNode canvas = awaitDesktop(page);
            assertTrue(canvas.isObject(), "no canvas: " + canvas);
            assertEquals(WIDTH, canvas.path("w").asInt(), canvas.toString());
            assertEquals(HEIGHT, canvas.path("h").asInt(), canvas.toString());
            int left = (int) Math.round(canvas.path("x").asDouble());
            int top = (int) Math.round(canvas.path("y").asDouble());

            // The terminal comes after the desktop (the entrypoint starts it after the X server), and
            // Claude Code draws its first screen in it after that: screenshots until both show,
            // within a bound, rather than one after a guessed pause.
            long began = System.nanoTime();
            long deadline = began + TERMINAL_WAIT.toNanos();
            byte[] png;
            Counts screen;
            Counts terminal;
            while (true) {
                png = page.screenshot();
                BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
                screen = count(shot, left, top, 0, 0, WIDTH, HEIGHT);
                terminal = count(shot, left, top, 40, 60, 500, 400);
                if (terminalDrawn(terminal) && promptShown(shot, left, top) || System.nanoTime() > deadline) {
                    break;
                }
                Thread.sleep(500);
            }
            Files.write(SHOTS.resolve("connected.png"), png);
            BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
            System.out.println("connected: canvas at " + left + "," + top + "; whole screen " + screen
                    + "; terminal area " + terminal + "; terminal drawn after "
                    + Duration.ofNanos(System.nanoTime() - began).toMillis() + " ms");
            // The desktop: its background fills the part of the screen the terminal leaves, right and below.
            assertTrue(screen.desktop > WIDTH * HEIGHT / 5, "too little desktop background: " + screen);
            assertTrue(close(pixel(shot, left + WIDTH - 10, top + HEIGHT - 10), DESKTOP), "no desktop at the corner");
            // The terminal: its dark background at the top left, with text drawn on it.
            assertTrue(terminalDrawn(terminal), "no terminal with text at the top left within " + TERMINAL_WAIT + ": "
                    + terminal + "\n" + desktopLogs(session));
            // noVNC works under the host's Content-Security-Policy with nothing refused.
            assertEquals("[]", page.evaluate(POLICY_VIOLATIONS).asText());
            // In it, Claude Code ready for a prompt: its input line between two rules across the terminal,
            // not an error or a first-run question (see target/desktop-it/connected.png).
            assertTrue(promptShown(shot, left, top), "no Claude Code prompt in the terminal within " + TERMINAL_WAIT
                    + "\n" + desktopLogs(session));
            // The README's picture (make screenshots): the desktop as the browser shows it, once it passed.
            Screenshots.save("desktop.png", shot.getSubimage(left, top, WIDTH, HEIGHT));
        }

        try (HeadlessChromium chromium = HeadlessChromium.launch(WIDTH + 200, HEIGHT + 200)) {
            String wrong = password.equals("wrongpw1") ? "wrongpw2" : "wrongpw1";
            HeadlessChromium.Page page = chromium.open(url + "?autoconnect=true&resize=off&password=" + wrong);
            JsonNode text = page.await("(document.getElementById('noVNC_status') || {textContent: ''}).textContent",
                    value -> value.asText().toLowerCase(java.util.Locale.ROOT).contains("fail")
                            || value.asText().toLowerCase(java.util.Locale.ROOT).contains("reject"),
                    Duration.ofSeconds(30));
            byte[] png = page.screenshot();
            Files.write(SHOTS.resolve("wrong-password.png"), png);
            System.out.println("wrong password: noVNC says '" + text.asText() + "'");
            assertTrue(text.asText().contains("Authentication failed") || text.asText().contains("rejected"),
                    "no refusal shown: '" + text.asText() + "'");
            Counts screen = count(ImageIO.read(new ByteArrayInputStream(png)), 0, 0, 0, 0, WIDTH, HEIGHT);
            assertEquals(0, screen.desktop, "the desktop shows despite the wrong password: " + screen);
        }
        assertEquals("running", Json.mapper().readTree(cage("status", "--json", session).stdout()).path("state").asText());
    }

    /**
     * Attack 8 of issue 14, "the desktop page belongs to the agent": in the cage, the agent kills
     * whatever listens on the desktop's port and serves a page of its own there. The browser must
     * still get the host's page, with its Content-Security-Policy, and nothing of the agent's; and
     * once a VNC server holds the port again, the session's password is still what lets it in.
     */
    @Test
    void theAgentsOwnPageOnTheCagesDesktopPortNeverReachesTheBrowser() throws Exception {
        int port = freePort();
        session = SESSIONS.get(3);
        CageHarness.Result start = cage("start", "--detach", "--name", session, "--mode", "desktop", "--network", "none",
                "--port", "127.0.0.1:" + port + ":6080", "--env", "VNC_RESOLUTION=" + WIDTH + "x" + HEIGHT, "--", "bash");
        assertEquals(0, start.exitCode(), start.toString());
        JsonNode status = Json.mapper().readTree(cage("status", "--json", session).stdout());
        String password = status.path("desktopPassword").asText();
        String url = status.path("desktopUrl").asText();
        awaitPage(url);

        CageHarness.Result taken = cage("shell", session, "--", "perl", "-MPOSIX", "-e", TAKE_PORT, "6080",
                "perl", "-e", AGENT_SERVER, "6080", AGENT_PAGE);
        assertEquals(0, taken.exitCode(), taken.toString());
        // Positive control: inside the cage, the desktop's port now serves the agent's page.
        CageHarness.Result inside = cage("shell", session, "--", "perl", "-e", FETCH_INSIDE, "6080");
        assertTrue(inside.stdout().contains(AGENT_PAGE), "the agent's server does not hold the cage's port: " + inside);

        HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        System.out.println("the page after the agent took the cage's port: HTTP " + page.statusCode() + " "
                + page.headers().map());
        assertEquals(200, page.statusCode());
        assertFalse(page.body().contains(AGENT_PAGE), "the browser gets the agent's page: " + page.body());
        assertTrue(page.body().contains("app/ui.js"), "not noVNC's page: " + page.body());
        String policy = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"),
                "no Content-Security-Policy from the host: " + page.headers().map());
        assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""));

        try (HeadlessChromium chromium = HeadlessChromium.launch(WIDTH + 200, HEIGHT + 200)) {
            HeadlessChromium.Page tab = chromium.open(url + "?autoconnect=true&resize=off&password=" + password,
                    RECORD_POLICY_VIOLATIONS);
            JsonNode shown = tab.await("(document.getElementById('noVNC_status') || {textContent: ''}).textContent",
                    value -> !value.asText().isBlank() && !value.asText().startsWith("Connecting"),
                    Duration.ofSeconds(30));
            String html = tab.evaluate("document.title + '\\n' + document.documentElement.outerHTML").asText();
            System.out.println("the browser, with the agent on the cage's port: noVNC says '" + shown.asText() + "'");
            assertFalse(html.contains(AGENT_PAGE), "the browser runs the agent's page: " + html);
            assertTrue(tab.evaluate("document.querySelector('script[src=\"app/ui.js\"]') !== null").asBoolean(),
                    "the browser does not show noVNC's page");
            // The policy holds in the browser: the page cannot connect anywhere but its own server.
            int elsewhere = freePort();
            tab.evaluate("new WebSocket('ws://127.0.0.1:" + elsewhere + "/'); 0");
            JsonNode refused = tab.await(POLICY_VIOLATIONS, value -> value.asText().contains("connect-src"),
                    Duration.ofSeconds(10));
            assertTrue(refused.asText().contains("connect-src ws://127.0.0.1:" + elsewhere), refused.asText());
        }

        // The agent gives the port back to a VNC server with the session's password file: the
        // host's page reaches it, with the password only.
        CageHarness.Result vnc = cage("shell", session, "--", "perl", "-MPOSIX", "-e", TAKE_PORT, "6080",
                "x11vnc", "-display", ":1", "-localhost", "-rfbport", "6080", "-rfbauth", "/tmp/desktop/passwd",
                "-forever", "-shared", "-quiet");
        assertEquals(0, vnc.exitCode(), vnc.toString());
        try (HeadlessChromium chromium = HeadlessChromium.launch(WIDTH + 200, HEIGHT + 200)) {
            JsonNode canvas = awaitDesktop(chromium.open(url + "?autoconnect=true&resize=off&password=" + password));
            assertTrue(showsDesktop(canvas), "the desktop is not shown with the password: " + canvas);
        }
        try (HeadlessChromium chromium = HeadlessChromium.launch(WIDTH + 200, HEIGHT + 200)) {
            String wrong = password.equals("wrongpw1") ? "wrongpw2" : "wrongpw1";
            HeadlessChromium.Page tab = chromium.open(url + "?autoconnect=true&resize=off&password=" + wrong);
            JsonNode text = tab.await("(document.getElementById('noVNC_status') || {textContent: ''}).textContent",
                    value -> value.asText().contains("Authentication failed") || value.asText().contains("rejected"),
                    Duration.ofSeconds(30));
            assertTrue(text.asText().contains("Authentication failed") || text.asText().contains("rejected"),
                    "no refusal of the wrong password: '" + text.asText() + "'");
        }
    }

    @Test
    void filteredDesktopIsReachedOnlyThroughThePublishedPort() throws Exception {
        int port = freePort();
        session = SESSIONS.get(1);
        CageHarness.Result start = cage("start", "--detach", "--name", session, "--mode", "desktop",
                "--port", "127.0.0.1:" + port + ":6080", "--", "bash");
        assertEquals(0, start.exitCode(), start.toString());
        awaitPage("http://127.0.0.1:" + port + "/vnc.html");
        String container = Json.mapper().readTree(cage("status", "--json", session).stdout()).path("containerId").asText();
        String namespace = "claude-cage-" + container;
        // Inside the cage, only VNC listens (the page is the host's), on its loopback only ...
        String inside = run("ip", "netns", "exec", namespace, "ss", "-Hltn");
        System.out.println("listening in the cage:\n" + inside);
        assertTrue(inside.contains("127.0.0.1:6080"), inside);
        for (String line : inside.lines().filter(line -> !line.isBlank()).toList()) {
            assertTrue(line.contains("127.0.0.1:") || line.contains("[::1]:"), "listens beyond loopback: " + line);
        }
        // ... so from the host, the cage's own address does not answer on it (nor on VNC's usual port).
        String address = run("ip", "netns", "exec", namespace, "ip", "-4", "-o", "addr", "show", "eth0")
                .replaceAll("(?s).*inet ([0-9.]+)/.*", "$1").strip();
        for (int cagePort : new int[] {6080, 5900}) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress(address, cagePort), 2000);
                throw new AssertionError("the cage's " + address + ":" + cagePort + " is reachable from the host");
            } catch (IOException expected) {
                System.out.println("the cage's " + address + ":" + cagePort + " from the host: " + expected);
            }
        }
        // Stopped, nothing listens; started again, it is published as before, with the same password.
        String password = Json.mapper().readTree(cage("status", "--json", session).stdout()).path("desktopPassword").asText();
        assertEquals(0, cage("stop", "--timeout", "5", session).exitCode());
        assertEquals(List.of(), ss(port));
        CageHarness.Result again = cage("start", "--detach", "--name", session);
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.stdout().contains("password: " + password), again.toString());
        awaitPage("http://127.0.0.1:" + port + "/vnc.html");
    }

    @Test
    void otherAddressesNeedTheFlagAndATakenPortFailsTheStart() throws Exception {
        session = SESSIONS.get(2);
        CageHarness.Result beyond = cage("start", "--detach", "--name", session, "--mode", "desktop", "--network", "none",
                "--port", "0.0.0.0:" + freePort() + ":6080");
        assertEquals(2, beyond.exitCode(), beyond.toString());
        assertTrue(beyond.stderr().contains("beyond this host's loopback") && beyond.stderr().contains(
                "--publish-beyond-loopback"), beyond.toString());
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CageHarness.Result busy = cage("start", "--detach", "--name", session, "--mode", "desktop", "--network",
                    "none", "--port", "127.0.0.1:" + taken.getLocalPort() + ":6080");
            assertEquals(1, busy.exitCode(), busy.toString());
            assertTrue(busy.stderr().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort() + " for the desktop"),
                    busy.toString());
        }
        // A session that could not start is not kept.
        assertFalse(cage("list", "-q").stdout().contains(session));
    }

    @Test
    void verifyInDesktopModeProbesTheDesktopImage() throws Exception {
        CageHarness.Result verify = CageHarness.launch(List.of("verify", "--mode", "desktop", "--json"), "",
                java.util.Map.of(), Duration.ofMinutes(5));
        assertEquals(0, verify.exitCode(), verify.toString());
        JsonNode report = Json.mapper().readTree(verify.stdout());
        assertEquals("image desktop", report.path("root").asText());
        assertTrue(report.path("controlsRun").asBoolean());
        assertTrue(report.path("probes").size() >= 40, verify.stdout());
        for (JsonNode probe : report.path("probes")) {
            assertEquals("BLOCKED", probe.path("outcome").asText().toUpperCase(java.util.Locale.ROOT), probe.toString());
            assertEquals("HOLE", probe.path("control").path("outcome").asText().toUpperCase(java.util.Locale.ROOT),
                    probe.toString());
        }
    }

    /**
     * Connected, and the framebuffer drawn: the canvas's size and place and a pixel near its bottom
     * right once that pixel has the desktop's colour (or whatever it had after 60 s). Until the page
     * has loaded, the expression finds no canvas and gives null.
     */
    static JsonNode awaitDesktop(HeadlessChromium.Page page) throws Exception {
        String probe = "(() => { const c = document.querySelector('canvas');"
                + " if (!c || c.width < 100) return null; const r = c.getBoundingClientRect();"
                + " const p = c.getContext('2d').getImageData(" + (WIDTH - 20) + ", " + (HEIGHT - 20) + ", 1, 1).data;"
                + " return {x: r.left, y: r.top, w: c.width, h: c.height, pixel: (p[0] << 16) | (p[1] << 8) | p[2],"
                + " status: document.getElementById('noVNC_status').textContent}; })()";
        return page.await(probe, value -> value.isObject() && close(value.path("pixel").asInt(), DESKTOP),
                Duration.ofSeconds(60));
    }

    /** Whether {@code canvas} (from {@link #awaitDesktop}) shows the desktop's colour. */
    static boolean showsDesktop(JsonNode canvas) {
        return canvas.isObject() && close(canvas.path("pixel").asInt(), DESKTOP);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(10, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    /** The supervisor serves the page once the cage runs; until then the connection waits in its backlog. */
    static void awaitPage(String url) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String last = "nothing yet";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<Void> response = client.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + response.statusCode();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the desktop's page " + url + " did not come within 60s: " + last);
    }

    private record Counts(int desktop, int terminal, int bright) {
    }

    /** The terminal's dark background over most of the region, with text drawn on it. */
    private static boolean terminalDrawn(Counts region) {
        return region.terminal > 500 * 400 / 2 && region.bright > 200;
    }

    /**
     * Whether the terminal shows Claude Code's prompt: its input line sits between two horizontal
     * rules drawn across the terminal (box-drawing lines, which DejaVu Sans Mono joins into one
     * line), a few text lines apart. Its error and first-run screens have no such pair.
     */
    static boolean promptShown(BufferedImage shot, int left, int top) {
        List<Integer> rules = new java.util.ArrayList<>();
        for (int y = 30; y < HEIGHT - 30; y++) {
            int run = 0;
            int longest = 0;
            for (int x = 24; x < WIDTH - 24; x++) {
                int sx = left + x;
                int sy = top + y;
                int rgb = sx < shot.getWidth() && sy < shot.getHeight() ? shot.getRGB(sx, sy) & 0xffffff : 0;
                boolean drawn = !close(rgb, TERMINAL) && !close(rgb, DESKTOP) && brightness(rgb) > 3 * 60;
                run = drawn ? run + 1 : 0;
                longest = Math.max(longest, run);
            }
            // Half the screen's width: no line of text is drawn without a gap that long.
            if (longest > WIDTH / 2 && (rules.isEmpty() || y - rules.get(rules.size() - 1) > 3)) {
                rules.add(y);
            }
        }
        for (int i = 1; i < rules.size(); i++) {
            int apart = rules.get(i) - rules.get(i - 1);
            if (apart >= 15 && apart <= 80) {
                return true;
            }
        }
        return false;
    }

    private static int brightness(int rgb) {
        return ((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff);
    }

    /** What the desktop's programs said and which of them run, from inside the cage, for a failure's message. */
    private static String desktopLogs(String session) throws Exception {
        return cage("shell", session, "--", "sh", "-c",
                "ps -eo pid,etimes,args; for f in /tmp/desktop/*.log; do echo \"== $f\"; tail -n 20 \"$f\"; done")
                .toString();
    }

    /** Pixels of the desktop's colour, the terminal's, and bright ones (text), in a region of the remote screen. */
    private static Counts count(BufferedImage shot, int left, int top, int x0, int y0, int width, int height) {
        int desktop = 0;
        int terminal = 0;
        int bright = 0;
        for (int y = y0; y < y0 + height; y++) {
            for (int x = x0; x < x0 + width; x++) {
                int sx = left + x;
                int sy = top + y;
                if (sx >= shot.getWidth() || sy >= shot.getHeight()) {
                    continue;
                }
                int rgb = shot.getRGB(sx, sy) & 0xffffff;
                if (close(rgb, DESKTOP)) {
                    desktop++;
                } else if (close(rgb, TERMINAL)) {
                    terminal++;
                } else if (((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff) > 3 * 150) {
                    bright++;
                }
            }
        }
        return new Counts(desktop, terminal, bright);
    }

    private static int pixel(BufferedImage shot, int x, int y) {
        return shot.getRGB(x, y) & 0xffffff;
    }

    /** Within a small distance per channel: VNC encodings and scaling may shift a colour a little. */
    private static boolean close(int rgb, int expected) {
        for (int shift = 0; shift <= 16; shift += 8) {
            if (Math.abs(((rgb >> shift) & 0xff) - ((expected >> shift) & 0xff)) > 12) {
                return false;
            }
        }
        return true;
    }

    /** The sockets listening on {@code port} on the host, as {@code ss} shows them. */
    static List<String> ss(int port) throws IOException, InterruptedException {
        Process ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes());
        assertTrue(ss.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, ss.exitValue(), out);
        System.out.println("ss -Hltn 'sport = :" + port + "':\n" + out);
        return out.lines().filter(line -> !line.isBlank()).map(line -> line.replaceAll("\\s+", " ") + " ").toList();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
