package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.testing.HeadlessChromium;
import dev.claudecage.testing.Screenshots;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 18: one evidence trail per run and per session whatever the network mode, {@code none} too (which
 * had no audit log at all): its first line says what the cage started from (and a session's, the hash of
 * its policy record), its last how it ended; {@code report --html} makes a page of it, which headless
 * Chromium shows with the expected parts (the screenshot in docs/images/report.png).
 */
@ExtendWith(CleanSessionHost.class)
class EvidenceTrailIT {

    private static final String SESSION = "it-trail";
    /** Where the page's pictures go, to look at when a test fails. */
    private static final Path SHOTS = Path.of("target/report-it");
    private static final int WIDTH = 1100;
    private static final int HEIGHT = 1250;
    private static final int OK_GREEN = 0x1e8e3e;
    /** A name the cage asks the proxy for that would be markup if the page did not escape it. */
    private static final String MARKUP = "<b>cage-chosen</b>.test";

    @TempDir
    Path dir;

    @BeforeEach
    void requireHost() {
        CageHarness.requireRootAndRootfs();
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "filtered"})
    void aRunsTrailSaysWhatItStartedFromAndHowItEnded(String network) throws Exception {
        Path audit = dir.resolve("audit.jsonl");
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Files.setAttribute(workspace, "unix:uid", 1000);
        Files.setAttribute(workspace, "unix:gid", 1000);
        Files.writeString(workspace.resolve("kept.txt"), "mine");
        // The cage rewrites this one with as many bytes and sets its mtime back: still told, by its ctime.
        Path sameSize = Files.writeString(workspace.resolve("same-size.txt"), "mine");
        Files.setAttribute(sameSize, "unix:uid", 1000);
        Files.setLastModifiedTime(sameSize, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        CageHarness.Result run = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network", network,
                "--mount", workspace + ":/workspace", "--audit-log", audit.toString(), "--", "sh", "-c",
                "printf hello > /workspace/new.txt; printf MINE > /workspace/same-size.txt; "
                        + "touch -d '2020-01-01 00:00:00 UTC' /workspace/same-size.txt; exit 3"), "", Map.of(),
                Duration.ofMinutes(2));

        assertEquals(3, run.exitCode(), run.toString());
        List<AuditEvent> events = AuditLog.read(audit);
        AuditEvent first = events.get(0);
        assertEquals("cage", first.source(), events.toString());
        assertEquals("started", first.decision(), first.toString());
        assertTrue(first.reason().matches("cage run-[0-9a-z-]+ started from root file system " + ROOTFS + "; policy "
                + "record sha256:[0-9a-f]{64}; network " + network), first.reason());
        AuditEvent last = events.get(events.size() - 1);
        assertEquals("exited", last.decision(), last.toString());
        assertTrue(last.reason().endsWith(" exited with code 3"), last.reason());
        assertEquals(FileTime.from(Instant.parse("2020-01-01T00:00:00Z")), Files.getLastModifiedTime(sameSize),
                "the cage set the mtime back");
        // What it changed in its workspace, with the SHA-256 of "hello" and "MINE"; the file it left alone is not told.
        assertEquals(List.of("added /workspace/new.txt: sha256:"
                        + "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824, 5 bytes",
                        "changed /workspace/same-size.txt: sha256:"
                        + "e5558063d447a246aed96606caeec03a22fea2829f46c7d6d9a14679e22bc5de, 4 bytes; it was 4 bytes"),
                events.stream().filter(event -> event.source().equals("files"))
                        .map(event -> event.decision() + " " + event.reason()).toList(), events.toString());
        assertFalse(run.stderr().contains("the network policy denied"), "the trail's own lines counted as denials: " + run);
        CageHarness.Result checked = CageHarness.launch(List.of("report", "--check", "--run", audit.toString()));
        assertEquals(0, checked.exitCode(), checked.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "filtered"})
    void aSessionsTrailCarriesItsPolicyHashAndThatTheUserStoppedIt(String network) throws Exception {
        CageHarness.Result start = cage("start", "--detach", "--name", SESSION, "--rootfs", ROOTFS.toString(),
                "--network", network, "--", "sleep", "600");
        assertEquals(0, start.exitCode(), start.toString());
        CageHarness.Result stop = cage("stop", "--timeout", "1", SESSION);
        assertEquals(0, stop.exitCode(), stop.toString());

        Path data = CageHarness.SESSION_DATA.resolve(SESSION);
        String policySha256 = Json.mapper().readTree(Files.readString(data.resolve("policy.json"))).path("sha256").asText();
        List<AuditEvent> events = AuditLog.read(data.resolve("logs/audit.jsonl"));
        AuditEvent first = events.get(0);
        assertEquals("started", first.decision(), events.toString());
        assertTrue(first.reason().contains("; policy record sha256:" + policySha256 + "; network " + network),
                first.reason() + " (policy.json: " + policySha256 + ")");
        AuditEvent last = events.get(events.size() - 1);
        assertEquals("stopped", last.decision(), last.toString());
        assertTrue(last.reason().contains(" was stopped by the user; exit code "), last.reason());

        CageHarness.Result told = cage("report", SESSION);
        assertEquals(0, told.exitCode(), told.toString());
        assertTrue(told.stdout().contains("The cage (how it started and ended):"), told.stdout());
        assertEquals(0, cage("destroy", SESSION).exitCode());
    }

    /**
     * A filtered run that is refused a name, told as a page; headless Chromium shows the page's parts: the
     * chain's check in green, the timeline's bars, the refused name, how the cage ended, and nothing of it
     * run as a script.
     */
    @Test
    void theReportPageShowsTheChainTheTimelineAndTheEndingInABrowser() throws Exception {
        assumeTrue(HeadlessChromium.installed(), "Debian's chromium is not installed (scripts/install-deps.sh installs it)");
        Path audit = dir.resolve("audit.jsonl");
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        Files.setAttribute(workspace, "unix:uid", 1000);
        Files.setAttribute(workspace, "unix:gid", 1000);
        // allowed.test's answer is the stub's own (--resolve, a documentation address): nothing is sent there.
        CageHarness.Result run = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "filtered",
                "--allowed-host", "allowed.test", "--resolve", "allowed.test=192.0.2.10", "--mount",
                workspace + ":/workspace", "--audit-log", audit.toString(), "--", "bash", "-c",
                "getent hosts allowed.test; getent hosts refused.test; echo fixed > /workspace/notes.txt; "
                        + "p=${HTTP_PROXY#http://}; exec 3<>/dev/tcp/${p%:*}/${p##*:}"
                        + " && printf 'CONNECT " + MARKUP + ":443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3"
                        + " && timeout 10 head -1 <&3; exit 0"), "", Map.of(), Duration.ofMinutes(2));
        assertEquals(0, run.exitCode(), run.toString());
        Path page = dir.resolve("report.html");
        CageHarness.Result report = CageHarness.launch(List.of("report", "--run", audit.toString(), "--html", page.toString()));
        assertEquals(0, report.exitCode(), report.toString());
        assertTrue(report.stdout().contains("Report page: " + page), report.stdout());

        Files.createDirectories(SHOTS);
        try (HeadlessChromium chromium = HeadlessChromium.launch(WIDTH, HEIGHT)) {
            HeadlessChromium.Page tab = chromium.open(page.toUri().toString());
            JsonNode parts = tab.await("document.readyState === 'complete' ? (() => { const r = document.getElementById('chain')"
                            + ".getBoundingClientRect(); return {chainX: r.left, chainY: r.top + r.height / 2,"
                            + " chain: document.querySelector('#chain.ok h2') ? document.querySelector('#chain.ok h2').textContent : '',"
                            + " bars: document.querySelectorAll('#timeline svg g.bar').length,"
                            + " refused: document.getElementById('refused').textContent,"
                            + " ending: document.getElementById('ending').textContent,"
                            + " reached: document.getElementById('reached').textContent,"
                            + " files: document.getElementById('files').textContent,"
                            + " scripts: document.querySelectorAll('script').length,"
                            + " bold: document.querySelectorAll('b').length,"
                            + " markupAsText: document.body.textContent.includes('" + MARKUP + "')}; })() : null",
                    value -> value.isObject(), Duration.ofSeconds(20));
            byte[] png = tab.screenshot();
            Files.write(SHOTS.resolve("report.png"), png);
            System.out.println("report page: " + parts);
            assertEquals("Chain check: intact", parts.path("chain").asText(), parts.toString());
            assertTrue(parts.path("bars").asInt() >= 1, "no bar in the timeline: " + parts);
            assertTrue(parts.path("refused").asText().contains("refused.test"), parts.toString());
            assertTrue(parts.path("ending").asText().contains("exited with code 0"), parts.toString());
            assertTrue(parts.path("reached").asText().contains("allowed.test"), parts.toString());
            assertTrue(parts.path("files").asText().contains("/workspace/notes.txt: sha256:"), parts.toString());
            assertEquals(0, parts.path("scripts").asInt(), parts.toString());
            assertEquals(0, parts.path("bold").asInt(), "a name the cage chose became markup: " + parts);
            assertTrue(parts.path("markupAsText").asBoolean(), "control: the cage's name must be on the page, as text: " + parts);
            // The picture itself: the chain's box has its green bar at its left edge.
            BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
            int rgb = shot.getRGB((int) parts.path("chainX").asDouble() + 2, (int) parts.path("chainY").asDouble()) & 0xffffff;
            assertEquals(OK_GREEN, rgb, String.format("the chain's box is %06x where its green bar should be (see %s)",
                    rgb, SHOTS.resolve("report.png")));
            // The docs' picture (make screenshots), once it passed.
            Screenshots.save("report.png", shot);
        }
    }
}
