package dev.claudecage.net;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * One decision about the cage's traffic: a proxy or gateway request, a DNS query, a dropped
 * packet. Written as one JSON line; fields that do not apply are null and left out.
 *
 * @param source      who decided: proxy, gateway, dns or firewall
 * @param decision    allowed, denied, or cut-off (a limit was passed mid-connection)
 * @param bytesSent   bytes from the cage to the destination
 * @param bytesReceived bytes from the destination to the cage
 * @param previousSha256 the SHA-256 (hex) of the line before this one in its log, as written: the chain that
 *                      {@link AuditChain} checks; null for the first line, and before the log writes it
 */
public record AuditEvent(Instant time, String source, String destination, Integer port, String decision,
                         String reason, Long bytesSent, Long bytesReceived, String previousSha256) {

    /** An event not yet written to a log. */
    public AuditEvent(Instant time, String source, String destination, Integer port, String decision, String reason,
                      Long bytesSent, Long bytesReceived) {
        this(time, source, destination, port, decision, reason, bytesSent, bytesReceived, null);
    }

    public static final String ALLOWED = "allowed";
    public static final String DENIED = "denied";
    public static final String CUT_OFF = "cut-off";

    /** The most characters of a destination kept in the log: a host name has at most 253. */
    public static final int MAX_DESTINATION_CHARS = 256;
    /** The most characters of a reason kept: room for the longest host name and what was wrong with it. */
    public static final int MAX_REASON_CHARS = 512;
    private static final int HASH_HEX_CHARS = 16;

    /** A line of the trail that is no network decision (how the cage started, a file it changed): no destination or bytes. */
    public static AuditEvent about(Instant time, String source, String decision, String reason) {
        return new AuditEvent(time, source, null, null, decision, reason, null, null);
    }

    public static AuditEvent denied(String source, String destination, Integer port, String reason) {
        return new AuditEvent(Instant.now(), source, destination, port, DENIED, reason, null, null);
    }

    /**
     * This event with its cage-chosen text bounded: a destination or reason longer than its limit
     * keeps its start and says how long it was and the start of its SHA-256, so that one line never
     * costs the host more than a few KiB however long a name the cage sent, and two long values
     * can still be told apart.
     */
    public AuditEvent bounded() {
        return new AuditEvent(time, source, bounded(destination, MAX_DESTINATION_CHARS), port, decision,
                bounded(reason, MAX_REASON_CHARS), bytesSent, bytesReceived, previousSha256);
    }

    /** This event as the line after one whose SHA-256 is {@code sha256} (null: the first line of its log). */
    AuditEvent after(String sha256) {
        return new AuditEvent(time, source, destination, port, decision, reason, bytesSent, bytesReceived, sha256);
    }

    /** The text cut to {@code max} characters, then "...[N characters, sha256:HEX]"; null and short text as they are. */
    public static String bounded(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        // Never half of a surrogate pair: the log line would hold a lone surrogate.
        int cut = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, cut) + "...[" + text.length() + " characters, sha256:" + sha256(text) + "]";
    }

    private static String sha256(String text) {
        return sha256Hex(text).substring(0, HASH_HEX_CHARS);
    }

    /** The SHA-256 of a text's UTF-8 bytes, in hex: how a line is chained to the next. */
    static String sha256Hex(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
