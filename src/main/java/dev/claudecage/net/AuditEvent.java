package dev.claudecage.net;

import java.time.Instant;

/**
 * One decision about the cage's traffic: a proxy or gateway request, a DNS query, a dropped
 * packet. Written as one JSON line; fields that do not apply are null and left out.
 *
 * @param source      who decided: proxy, gateway, dns or firewall
 * @param decision    allowed, denied, or cut-off (a limit was passed mid-connection)
 * @param bytesSent   bytes from the cage to the destination
 * @param bytesReceived bytes from the destination to the cage
 */
public record AuditEvent(Instant time, String source, String destination, Integer port, String decision,
                         String reason, Long bytesSent, Long bytesReceived) {

    public static final String ALLOWED = "allowed";
    public static final String DENIED = "denied";
    public static final String CUT_OFF = "cut-off";

    public static AuditEvent denied(String source, String destination, Integer port, String reason) {
        return new AuditEvent(Instant.now(), source, destination, port, DENIED, reason, null, null);
    }
}
