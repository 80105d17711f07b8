package dev.claudecage.desktop;

import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.http.HttpHead;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;

/**
 * What the desktop's web server does with one request: serve a file of {@link DesktopPage}, send
 * "/" to the page, open the WebSocket to the desktop in the cage, or refuse. Decided from the
 * request's head alone, before anything is read from the cage.
 *
 * <p>Only GET is answered, and only when the Host field is an IP address or {@code localhost}: a
 * page on another site whose name an attacker points at this address (DNS rebinding) sends that
 * name. The WebSocket is opened only for a page of this same server: its Origin must be
 * {@code http://} and the Host, so another site, or another server on this host's loopback,
 * cannot connect a browser to the desktop.
 */
public sealed interface DesktopRequest {

    /** The GUID that RFC 6455 (section 1.3) appends to the key. */
    String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    record Serve(DesktopPage.File file) implements DesktopRequest {
    }

    record Redirect(String location) implements DesktopRequest {
    }

    /**
     * @param accept   the Sec-WebSocket-Accept value for the client's key
     * @param protocol the subprotocol chosen ("binary", which noVNC may ask for), or null for none
     */
    record Upgrade(String accept, String protocol) implements DesktopRequest {
    }

    /**
     * @param status the HTTP status
     * @param reason what the client is told, and the supervisor's log
     * @param logged whether the refusal is worth a line in the log (not a mere 404)
     */
    record Refuse(int status, String reason, boolean logged) implements DesktopRequest {
    }

    static DesktopRequest decide(HttpHead head, DesktopPage page) {
        String[] line = head.startLine().split(" ", -1);
        if (line.length != 3 || !line[0].matches("[A-Z]{1,16}") || !line[1].startsWith("/")
                || !(line[2].equals("HTTP/1.1") || line[2].equals("HTTP/1.0"))) {
            return new Refuse(400, "not an HTTP/1.x request for a path", true);
        }
        List<String> hosts = head.values("Host");
        if (hosts.size() != 1 || !namesAnAddress(hosts.get(0))) {
            return new Refuse(403, "this server answers requests for an IP address or localhost only, not for Host "
                    + (hosts.size() == 1 ? "'" + UntrustedText.excerpt(hosts.get(0)) + "'" : "fields " + hosts.size()),
                    true);
        }
        if (!line[0].equals("GET")) {
            return new Refuse(405, "only GET is answered, not " + line[0], true);
        }
        int query = line[1].indexOf('?');
        String path = query < 0 ? line[1] : line[1].substring(0, query);
        if (path.equals(DesktopPage.WEBSOCKET)) {
            return upgrade(head, hosts.get(0));
        }
        if (path.equals("/")) {
            return new Redirect(DesktopPage.START);
        }
        return page.find(path).<DesktopRequest>map(Serve::new)
                .orElseGet(() -> new Refuse(404, "no such file of the desktop's page", false));
    }

    private static DesktopRequest upgrade(HttpHead head, String host) {
        if (!hasToken(head, "Upgrade", "websocket") || !hasToken(head, "Connection", "upgrade")) {
            return new Refuse(400, DesktopPage.WEBSOCKET + " is the desktop's WebSocket: a WebSocket upgrade only", true);
        }
        if (!head.values("Sec-WebSocket-Version").equals(List.of("13"))) {
            return new Refuse(400, "WebSocket version 13 only", true);
        }
        List<String> keys = head.values("Sec-WebSocket-Key");
        if (keys.size() != 1 || !isKey(keys.get(0))) {
            return new Refuse(400, "no valid Sec-WebSocket-Key", true);
        }
        List<String> origins = head.values("Origin");
        String expected = "http://" + host;
        if (origins.size() != 1 || !origins.get(0).equalsIgnoreCase(expected)) {
            return new Refuse(403, "the desktop's WebSocket is for its own page (Origin " + expected + "), not for "
                    + (origins.size() == 1 ? "Origin '" + UntrustedText.excerpt(origins.get(0)) + "'"
                    : origins.size() + " Origin fields"), true);
        }
        String protocol = hasToken(head, "Sec-WebSocket-Protocol", "binary") ? "binary" : null;
        return new Upgrade(accept(keys.get(0)), protocol);
    }

    /** An IPv4 or IPv6 literal or localhost, with or without a port: what a DNS-rebound name is not. */
    static boolean namesAnAddress(String host) {
        String name = host;
        String port = null;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) {
                return false;
            }
            name = host.substring(1, close);
            String rest = host.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    return false;
                }
                port = rest.substring(1);
            }
            if (!DesktopPort.isIpv6Literal(name)) {
                return false;
            }
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0) {
                name = host.substring(0, colon);
                port = host.substring(colon + 1);
            }
            if (!(name.equalsIgnoreCase("localhost") || DesktopPort.isIpv4Literal(name))) {
                return false;
            }
        }
        return port == null || port.matches("[0-9]{1,5}");
    }

    private static boolean hasToken(HttpHead head, String field, String token) {
        return head.values(field).stream()
                .flatMap(value -> java.util.Arrays.stream(value.split(",")))
                .anyMatch(value -> value.strip().equalsIgnoreCase(token));
    }

    /** A key is 16 random bytes in base64 (RFC 6455, 4.1). */
    private static boolean isKey(String key) {
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static String accept(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            return Base64.getEncoder().encodeToString(sha1.digest((key + WEBSOCKET_GUID)
                    .getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-1", e);
        }
    }

    /** The request as the log names it: method and path, bounded and escaped. */
    static String summary(HttpHead head) {
        String line = head.startLine();
        int version = line.lastIndexOf(' ');
        return UntrustedText.excerpt(version > 0 ? line.substring(0, version) : line);
    }
}
