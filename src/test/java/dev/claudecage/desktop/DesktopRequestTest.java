package dev.claudecage.desktop;

import dev.claudecage.CageException;
import dev.claudecage.net.http.HttpHead;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DesktopRequestTest {

    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    @TempDir
    Path root;

    private DesktopPage page() throws IOException {
        Files.writeString(root.resolve("vnc.html"), "<html></html>");
        Files.createDirectories(root.resolve("app/images"));
        Files.writeString(root.resolve("app/ui.js"), "");
        Files.writeString(root.resolve("app/images/icon.svg"), "");
        Files.writeString(root.resolve("app/CREDITS"), "");
        Files.writeString(root.resolve("app/.hidden.js"), "");
        Files.createDirectories(root.resolve("utils"));
        Files.writeString(root.resolve("utils/tool.js"), "");
        Files.writeString(root.resolve("vnc_lite.html"), "");
        return DesktopPage.load(root);
    }

    private static DesktopRequest decide(DesktopPage page, String... lines) throws IOException {
        String text = String.join("\r\n", lines) + "\r\n\r\n";
        return DesktopRequest.decide(HttpHead.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1))),
                page);
    }

    @Test
    void thePageIsVncHtmlAndTheFilesOfAppCoreAndVendorOfAKnownType() throws IOException {
        DesktopPage page = page();
        assertEquals(List.of("/app/images/icon.svg", "/app/ui.js", "/vnc.html"), List.copyOf(new java.util.TreeSet<>(page.files().keySet())));
        assertEquals("text/javascript; charset=utf-8", page.find("/app/ui.js").orElseThrow().contentType());
        assertEquals("image/svg+xml", page.find("/app/images/icon.svg").orElseThrow().contentType());
    }

    @Test
    void withoutNoVncOnTheHostTheErrorSaysWhatToInstall() {
        CageException e = assertThrows(CageException.class, () -> DesktopPage.load(root.resolve("none")));
        assertTrue(e.getMessage().contains("needs noVNC") && e.hint().contains("apt-get install novnc"), e.toString());
    }

    @Test
    void getOfAFileServesItAndEverythingElseIsRefused() throws IOException {
        DesktopPage page = page();
        assertEquals(new DesktopRequest.Serve(page.find("/vnc.html").orElseThrow()),
                decide(page, "GET /vnc.html?autoconnect=true&password=x HTTP/1.1", "Host: 127.0.0.1:6080"));
        assertEquals(new DesktopRequest.Redirect("/vnc.html"), decide(page, "GET / HTTP/1.1", "Host: 127.0.0.1:6080"));
        assertEquals(404, ((DesktopRequest.Refuse) decide(page, "GET /utils/tool.js HTTP/1.1", "Host: [::1]:6080")).status());
        assertEquals(404, ((DesktopRequest.Refuse) decide(page, "GET /app/CREDITS HTTP/1.1", "Host: localhost")).status());
        assertEquals(405, ((DesktopRequest.Refuse) decide(page, "HEAD /vnc.html HTTP/1.1", "Host: localhost")).status());
        assertEquals(400, ((DesktopRequest.Refuse) decide(page, "GET http://127.0.0.1/vnc.html HTTP/1.1",
                "Host: 127.0.0.1")).status());
        assertEquals(400, ((DesktopRequest.Refuse) decide(page, "GET /vnc.html HTTP/2", "Host: 127.0.0.1")).status());
        assertEquals(403, ((DesktopRequest.Refuse) decide(page, "GET /vnc.html HTTP/1.1")).status());
        assertEquals(403, ((DesktopRequest.Refuse) decide(page, "GET /vnc.html HTTP/1.1", "Host: 127.0.0.1",
                "Host: 127.0.0.1")).status());
    }

    @Test
    void onlyAnAddressOrLocalhostIsAHostThisServerAnswers() {
        for (String host : List.of("127.0.0.1", "127.0.0.1:6080", "LOCALHOST:6080", "localhost", "[::1]:6080", "[::1]",
                "192.168.7.9:6080", "[fe80::1]:80")) {
            assertTrue(DesktopRequest.namesAnAddress(host), host);
        }
        for (String host : List.of("attacker.example", "attacker.example:6080", "localhost.attacker.example:6080",
                "127.0.0.1.nip.io:6080", "[::1", "[::1]6080", "127.0.0.1:port", "127.0.0.1:123456", "", ":6080",
                "300.0.0.1:6080", "[attacker.example]:6080")) {
            assertFalse(DesktopRequest.namesAnAddress(host), host);
        }
    }

    @Test
    void theWebSocketIsOpenedForThisServersOwnPageOnly() throws IOException {
        DesktopPage page = page();
        String[] upgrade = {"GET /websockify HTTP/1.1", "Host: 127.0.0.1:6080", "Upgrade: websocket",
            "Connection: keep-alive, Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + KEY,
            "Sec-WebSocket-Protocol: binary", "Origin: http://127.0.0.1:6080"};
        // RFC 6455's own example of a key and its accept value.
        assertEquals(new DesktopRequest.Upgrade("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "binary"), decide(page, upgrade));
        assertEquals(new DesktopRequest.Upgrade("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", null),
                decide(page, without(upgrade, "Sec-WebSocket-Protocol")));
        DesktopRequest.Refuse other = (DesktopRequest.Refuse) decide(page, with(upgrade, "Origin: http://attacker.example"));
        assertEquals(403, other.status());
        assertTrue(other.reason().contains("Origin 'http://attacker.example'") && other.logged(), other.reason());
        assertEquals(403, ((DesktopRequest.Refuse) decide(page, with(upgrade, "Origin: http://127.0.0.1:6081"))).status());
        assertEquals(403, ((DesktopRequest.Refuse) decide(page, without(upgrade, "Origin"))).status());
        assertEquals(400, ((DesktopRequest.Refuse) decide(page, without(upgrade, "Upgrade"))).status());
        assertEquals(400, ((DesktopRequest.Refuse) decide(page, with(upgrade, "Sec-WebSocket-Version: 8"))).status());
        assertEquals(400, ((DesktopRequest.Refuse) decide(page, with(upgrade, "Sec-WebSocket-Key: c2hvcnQ="))).status());
        assertInstanceOf(DesktopRequest.Upgrade.class, decide(page, with(with(upgrade, "Host: localhost:6080"),
                "Origin: http://localhost:6080")));
    }

    /** The request without the field {@code name}. */
    private static String[] without(String[] lines, String name) {
        return java.util.Arrays.stream(lines).filter(line -> !line.startsWith(name + ":")).toArray(String[]::new);
    }

    /** The request with {@code field} in place of the field of that name. */
    private static String[] with(String[] lines, String field) {
        String name = field.substring(0, field.indexOf(':'));
        List<String> out = new java.util.ArrayList<>(List.of(without(lines, name)));
        out.add(field);
        return out.toArray(String[]::new);
    }
}
