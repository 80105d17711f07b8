package dev.claudecage.net.gateway;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static dev.claudecage.net.gateway.ReceivePackCommandsTest.A;
import static dev.claudecage.net.gateway.ReceivePackCommandsTest.B;
import static dev.claudecage.net.gateway.ReceivePackCommandsTest.ZERO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The receive-pack result the gateway writes for a push it refuses, byte for byte as git reads it. */
class ReceivePackRefusalTest {

    private static ReceivePackCommands push(Set<String> capabilities) {
        return new ReceivePackCommands(List.of(new ReceivePackCommands.Command(A, B, "refs/heads/main"),
                new ReceivePackCommands.Command(ZERO, A, "refs/heads/claude/x")), capabilities, new byte[0]);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    @Test
    void withoutSideBandAReportStatusOfOneNgPerUpdate() {
        byte[] body = ReceivePackRefusal.body(push(Set.of("report-status")), List.of("claude-cage: not main",
                "claude-cage: not applied"), "shown nowhere");
        assertEquals("000eunpack ok\n" + "002dng refs/heads/main claude-cage: not main\n"
                + "0034ng refs/heads/claude/x claude-cage: not applied\n" + "0000", text(body));
    }

    @Test
    void withSideBandTheMessageGoesOnBandTwoAndTheReportOnBandOne() {
        byte[] body = ReceivePackRefusal.body(push(Set.of("report-status", "side-band-64k")), List.of("r1", "r2"),
                "first line\nsecond line");
        String report = "000eunpack ok\n" + "001ang refs/heads/main r1\n" + "001eng refs/heads/claude/x r2\n" + "0000";
        assertEquals("0010\u0002first line\n" + "0011\u0002second line\n"
                + String.format("%04x", report.length() + 5) + "\u0001" + report + "0000", text(body));
    }

    @Test
    void plainSideBandSplitsTheReportIntoThousandBytePackets() throws Exception {
        String longReason = "x".repeat(800);
        byte[] body = ReceivePackRefusal.body(push(Set.of("report-status", "side-band")), List.of(longReason, longReason),
                "m");
        // Read it back as git does: every packet at most 1000 bytes, band 1 joined, ending in a flush.
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        StringBuilder bandOne = new StringBuilder();
        while (true) {
            int length = Integer.parseInt(text(in.readNBytes(4)), 16);
            if (length == 0) {
                break;
            }
            assertTrue(length <= 1000, "a packet of " + length);
            byte[] payload = in.readNBytes(length - 4);
            if (payload[0] == 1) {
                bandOne.append(text(payload).substring(1));
            }
        }
        assertEquals(0, in.available());
        assertTrue(bandOne.toString().endsWith("ng refs/heads/claude/x " + longReason + "\n0000"), bandOne.toString());
    }

    @Test
    void aReasonStaysOneLine() {
        String body = text(ReceivePackRefusal.body(push(Set.of()), List.of("a\nb\u001bc", "d"), ""));
        assertTrue(body.contains("ng refs/heads/main a b c\n"), body);
        assertThrows(IllegalArgumentException.class, () -> ReceivePackRefusal.body(push(Set.of()), List.of("one"), ""));
    }
}
