package dev.claudecage.net.cage;

import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropLoggerTest {

    @Test
    void tcpDropBecomesADeniedEventWithDestinationAndPort() {
        AuditEvent event = DropLogger.parse("1795858241.374869 IP 10.213.0.2.48660 > 10.213.201.2.80: tcp 0").orElseThrow();
        assertEquals(Instant.ofEpochSecond(1795858241L, 374_869_000L), event.time());
        assertEquals("10.213.201.2", event.destination());
        assertEquals(80, event.port());
        assertEquals("denied", event.decision());
        assertEquals("firewall", event.source());
        assertEquals(0L, event.bytesSent());
    }

    @Test
    void udpOverIpv6KeepsTheWholeAddress() {
        AuditEvent event = DropLogger.parse(
                "1795858241.000001 IP6 fd63:6167:6500::2.40000 > fd63:6167:6500:c9::2.53: UDP, length 30").orElseThrow();
        assertEquals("fd63:6167:6500:c9::2", event.destination());
        assertEquals(53, event.port());
        assertEquals(30L, event.bytesSent());
        assertTrue(event.reason().contains("udp"));
    }

    @Test
    void icmpHasNoPort() {
        AuditEvent event = DropLogger.parse(
                "1795858241.5 IP 10.213.0.2 > 10.213.201.2: ICMP echo request, id 7, seq 1, length 64").orElseThrow();
        assertEquals("10.213.201.2", event.destination());
        assertEquals(null, event.port());
        assertEquals(64L, event.bytesSent());
    }

    @Test
    void linesThatAreNotPacketsAreIgnored() {
        assertTrue(DropLogger.parse("listening on nflog:7, link-type NFLOG").isEmpty());
        assertTrue(DropLogger.parse("").isEmpty());
    }

    @Test
    void tcpdumpKeepsNoRootAndSeesOnlyTheHeaders() {
        List<String> command = DropLogger.command();
        assertEquals(List.of("--no-new-privs", "--bounding-set", "-all,+net_admin,+setuid,+setgid", "--", "tcpdump"),
                command.subList(1, 6), command.toString());
        assertTrue(command.get(0).endsWith("/setpriv"), command.toString());
        assertEquals("tcpdump", command.get(command.indexOf("-Z") + 1), "tcpdump becomes its own user after opening the group");
        assertEquals("128", command.get(command.indexOf("-s") + 1));
        assertTrue(!command.contains("root"), command.toString());
    }

    /** A line the cage shaped (through the packets it sends) never stops the logger: no exception, whatever it holds. */
    @Test
    void noLineStopsTheReaderWhateverItHolds() {
        List<String> lines = new ArrayList<>(List.of(
                "1795858241.1 IP 10.0.0.1.1 > 10.0.0.2.99999999999: tcp 0",
                "1795858241.1 IP 10.0.0.1.1 > 10.0.0.2.70000: tcp 0",
                "99999999999999999999.1 IP 10.0.0.1.1 > 10.0.0.2.80: tcp 0",
                "1795858241.1 IP 10.0.0.1.1 > 10.0.0.2.80: tcp 99999999999999999999",
                "1795858241.1 IP 10.0.0.1.1 > 10.0.0.2.: tcp 0"));
        Random random = new Random(7);
        String alphabet = "0123456789.: >abcdefIPUDP\u001b\\x,-";
        String template = "1795858241.374869 IP 10.213.0.2.48660 > 10.213.201.2.80: tcp 0";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder mutated = new StringBuilder(template);
            for (int edits = random.nextInt(4); edits >= 0; edits--) {
                int at = random.nextInt(mutated.length());
                mutated.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
            }
            lines.add(mutated.toString());
        }
        for (String line : lines) {
            Optional<AuditEvent> event = assertDoesNotThrow(() -> DropLogger.parse(line), line);
            event.ifPresent(found -> {
                assertTrue(found.destination().matches("[0-9a-f:.]+"), line + " -> " + found.destination());
                assertTrue(found.port() == null || found.port() <= 65535, line);
                assertTrue(found.reason().matches("dropped by the cage's firewall \\([a-z0-9-]+\\)"), found.reason());
            });
        }
    }

    @Test
    void fieldsNotOfTheirFormAreNotRecorded() {
        assertTrue(DropLogger.parse("1795858241.1 IP 10.0.0.1.1 > 10.0.0.2.70000: tcp 0").isEmpty(), "a port past 65535");
        assertTrue(DropLogger.parse("1795858241.1 IP 10.0.0.1 > evil\u001b[2J.example: ICMP echo request").isEmpty(),
                "a destination that is no address");
        assertTrue(DropLogger.parse("1795858241.1 IP 10.0.0.1 > 10.0.0.2: ICMP echo request").isPresent(), "the same, well formed");
        assertEquals("dropped by the cage's firewall (other)",
                DropLogger.parse("1795858241.1 IP 10.0.0.1 > 10.0.0.2: \u001b]0;title\u0007, length 4").orElseThrow().reason(),
                "a protocol name that is not one");
    }

    @Test
    void anOverlongLineIsSkippedWholeAndTheNextOneRead() throws IOException {
        String good = "1795858241.5 IP 10.213.0.2 > 10.213.201.2: ICMP echo request, id 7, seq 1, length 64";
        InputStream in = new ByteArrayInputStream(("x".repeat(1 << 20) + "\n" + good + "\nlast")
                .getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("", DropLogger.readLine(in), "the overlong line comes back empty, not held");
        assertEquals(good, DropLogger.readLine(in));
        assertEquals("last", DropLogger.readLine(in), "a last line without its newline");
        assertNull(DropLogger.readLine(in));
        assertEquals(DropLogger.MAX_LINE_BYTES, DropLogger.readLine(new ByteArrayInputStream(
                "y".repeat(DropLogger.MAX_LINE_BYTES).getBytes(StandardCharsets.ISO_8859_1))).length(), "the longest line kept");
    }
}
