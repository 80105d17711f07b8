package dev.claudecage.net.gateway;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ref updates of a push as the gateway reads them from the cage: what a real git sends, and every way
 * the cage could send something else (malformed, oversized, too many), each refused before the rules are
 * asked.
 */
class ReceivePackCommandsTest {

    static final String ZERO = "0".repeat(40);
    static final String A = "a".repeat(40);
    static final String B = "b".repeat(40);

    static byte[] pkt(String payload) {
        byte[] data = payload.getBytes(StandardCharsets.ISO_8859_1);
        return concat(String.format("%04x", data.length + 4).getBytes(StandardCharsets.US_ASCII), data);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static final byte[] FLUSH = "0000".getBytes(StandardCharsets.US_ASCII);
    static final byte[] PACK = "PACK\0\0\0\2\0\0\0\0".getBytes(StandardCharsets.ISO_8859_1);

    private static ReceivePackCommands read(byte[] bytes) throws IOException {
        return ReceivePackCommands.read(new ByteArrayInputStream(bytes));
    }

    private static String malformed(byte[] bytes) {
        return assertThrows(ProtocolException.class, () -> read(bytes)).getMessage();
    }

    @Test
    void readsWhatGitSendsAndStopsAtTheFlushBeforeThePack() throws Exception {
        byte[] head = concat(
                pkt(ZERO + " " + A + " refs/heads/claude/x\0 report-status side-band-64k object-format=sha1 agent=git/2.39\n"),
                pkt(A + " " + B + " refs/heads/main\n"),
                pkt(B + " " + ZERO + " refs/tags/v1\n"),
                FLUSH);
        InputStream in = new ByteArrayInputStream(concat(head, PACK));
        ReceivePackCommands push = ReceivePackCommands.read(in);

        assertEquals(List.of(new ReceivePackCommands.Command(ZERO, A, "refs/heads/claude/x"),
                new ReceivePackCommands.Command(A, B, "refs/heads/main"),
                new ReceivePackCommands.Command(B, ZERO, "refs/tags/v1")), push.commands());
        assertEquals(Set.of("report-status", "side-band-64k", "object-format=sha1", "agent=git/2.39"), push.capabilities());
        assertTrue(push.commands().get(0).creates());
        assertFalse(push.commands().get(1).creates() || push.commands().get(1).deletes());
        assertTrue(push.commands().get(2).deletes());
        // What was read goes upstream unchanged; the pack is still to be read.
        assertArrayEquals(head, push.bytes());
        assertArrayEquals(PACK, in.readAllBytes());
    }

    @Test
    void aLoneFlushIsGitsProbeBeforeALargePushAndUpdatesNothing() throws Exception {
        ReceivePackCommands probe = read(FLUSH);
        assertEquals(List.of(), probe.commands());
        assertArrayEquals(FLUSH, probe.bytes());
    }

    @Test
    void shallowLinesBeforeTheUpdatesAndSha256IdsAreGits() throws Exception {
        String zero = "0".repeat(64);
        String c = "c".repeat(64);
        ReceivePackCommands push = read(concat(pkt("shallow " + A + "\n"),
                pkt(zero + " " + c + " refs/heads/claude/y\0report-status"), FLUSH));
        assertEquals(List.of(new ReceivePackCommands.Command(zero, c, "refs/heads/claude/y")), push.commands());
    }

    @Test
    void malformedPacketsAreRefused() {
        assertTrue(malformed("zzzz".getBytes(StandardCharsets.US_ASCII)).contains("pkt-line length"));
        assertTrue(malformed("00A0".getBytes(StandardCharsets.US_ASCII)).contains("pkt-line length"), "upper case hex");
        assertTrue(malformed("0004".getBytes(StandardCharsets.US_ASCII)).contains("length 4"));
        assertTrue(malformed("0001".getBytes(StandardCharsets.US_ASCII)).contains("length 1"), "protocol v2's delimiter");
        assertTrue(malformed("fff1".getBytes(StandardCharsets.US_ASCII)).contains("length 65521"));
        assertThrows(EOFException.class, () -> read(new byte[] {'0', '0'}));
        assertThrows(EOFException.class, () -> read("0040abc".getBytes(StandardCharsets.US_ASCII)));
        assertThrows(EOFException.class, () -> read(pkt(ZERO + " " + A + " refs/heads/claude/x")), "no flush");
    }

    @Test
    void malformedUpdatesAreRefused() {
        for (String line : List.of(ZERO + " " + A, ZERO + "  " + A + " refs/heads/x", A.toUpperCase() + " " + B + " refs/heads/x",
                ZERO + " " + "c".repeat(64) + " refs/heads/x", "g".repeat(40) + " " + A + " refs/heads/x",
                ZERO + " " + A + " refs/heads/x extra")) {
            assertTrue(malformed(concat(pkt(line + "\n"), FLUSH)).contains("malformed ref update"), line);
        }
        assertTrue(malformed(concat(pkt(ZERO + " " + ZERO + " refs/heads/x"), FLUSH)).contains("zero id to the zero id"));
    }

    @Test
    void refNamesGitWouldRefuseAreRefused() {
        for (String ref : List.of("HEAD", "main", "refs/heads/../main", "refs/heads//x", "refs/heads/x.lock",
                "refs/heads/x/", "refs/heads/x.", "refs/heads/.x", "refs/heads/a@{1}", "refs/heads/a~1", "refs/heads/a^",
                "refs/heads/a:b", "refs/heads/a?", "refs/heads/a*", "refs/heads/a[", "refs/heads/a\\b",
                "refs/heads/\u001b[2Jx", "refs/heads/\u00e9", "refs/heads/" + "x".repeat(ReceivePackCommands.MAX_REF_CHARS))) {
            String message = malformed(concat(pkt(ZERO + " " + A + " " + ref + "\n"), FLUSH));
            assertTrue(message.contains("not a ref name") || message.contains("malformed ref update"), ref + ": " + message);
            assertFalse(message.contains("\u001b"), "the cage's escape reached a message: " + message);
        }
    }

    @Test
    void capabilitiesOnlyOnTheFirstUpdateAndSignedPushesAreRefused() {
        assertTrue(malformed(concat(pkt(ZERO + " " + A + " refs/heads/a\n"), pkt(ZERO + " " + B + " refs/heads/b\0report-status"),
                FLUSH)).contains("capabilities after the first"));
        assertTrue(malformed(concat(pkt(ZERO + " " + A + " refs/heads/a\0report\u0007status"), FLUSH))
                .contains("malformed capabilities"));
        assertTrue(malformed(concat(pkt("push-cert\0report-status"), pkt("certificate version 0.1\n"), FLUSH))
                .contains("signed push"));
        assertTrue(malformed(concat(pkt("shallow nothex\n"), FLUSH)).contains("malformed shallow line"));
    }

    @Test
    void tooManyUpdatesOrBytesAreRefusedWithoutReadingOn() {
        byte[][] many = new byte[ReceivePackCommands.MAX_COMMANDS + 2][];
        for (int i = 0; i <= ReceivePackCommands.MAX_COMMANDS; i++) {
            many[i] = pkt(ZERO + " " + A + " refs/heads/claude/" + i + "\n");
        }
        many[ReceivePackCommands.MAX_COMMANDS + 1] = FLUSH;
        assertTrue(malformed(concat(many)).contains("more than " + ReceivePackCommands.MAX_COMMANDS + " ref updates"));

        // One packet as long as pkt-line allows, its ref far past the limit: refused at that packet.
        byte[] longest = pkt(ZERO + " " + A + " refs/heads/" + "x".repeat(ReceivePackCommands.MAX_PKT_LENGTH - 4 - 93));
        assertEquals(ReceivePackCommands.MAX_PKT_LENGTH, longest.length);
        assertTrue(malformed(concat(longest, FLUSH)).contains("not a ref name"));
    }
}
