package dev.claudecage.net.proxy;

import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.http.BodyFraming;
import dev.claudecage.net.http.HttpHead;

import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** What a cage asked one of the proxy's listeners for: a destination, and how to talk to it. */
sealed interface ProxyRequest permits ProxyRequest.Tunnel, ProxyRequest.Exchange {

    int HTTP_PORT = 80;
    int HTTPS_PORT = 443;

    String host();

    int port();

    /** The request as the denial message and the audit log name it. */
    String summary();

    /** How a tunnel's client named its destination. */
    enum Via {
        /** CONNECT host:port, answered with "200 Connection established". */
        CONNECT("CONNECT "),
        /** The server name of a TLS ClientHello sent to the transparent listener. */
        TLS("TLS to "),
        /** The gateway port it connected to, one TCP relay's: nothing is read from the client before the decision. */
        RELAY("TCP relay to ");

        private final String prefix;

        Via(String prefix) {
            this.prefix = prefix;
        }
    }

    /**
     * Raw bytes both ways once connected: a CONNECT tunnel, transparent TLS, or a TCP relay.
     *
     * @param preamble bytes already read from the client that go upstream first (the ClientHello)
     */
    record Tunnel(String host, int port, byte[] preamble, Via via) implements ProxyRequest {
        @Override
        public String summary() {
            return via.prefix + host + ":" + port;
        }

        /** Whether the client waits for "200 Connection established". */
        public boolean answerConnect() {
            return via == Via.CONNECT;
        }
    }

    /** A connection to a TCP relay's port: its destination is the route's, whatever the client sends. */
    static ProxyRequest relayed(RelayRoute route) {
        return new Tunnel(route.host(), route.port(), new byte[0], Via.RELAY);
    }

    /**
     * One plain HTTP request, its head already rewritten for the upstream server; the body
     * follows in the client's stream.
     */
    record Exchange(String host, int port, HttpHead head, BodyFraming body) implements ProxyRequest {
        @Override
        public String summary() {
            return head.startLine().substring(0, head.startLine().indexOf(' ')) + " http://" + host
                    + (port == HTTP_PORT ? "" : ":" + port);
        }
    }

    /** The explicit proxy: CONNECT host:port, or an absolute http:// URI. */
    static ProxyRequest readExplicit(InputStream in) throws IOException {
        HttpHead head = HttpHead.read(in);
        RequestLine line = RequestLine.parse(head.startLine());
        if (line.method().equals("CONNECT")) {
            Authority authority = Authority.parse(line.target(), -1);
            return new Tunnel(authority.host(), authority.port(), new byte[0], Via.CONNECT);
        }
        String target = line.target();
        String scheme = "http://";
        if (!target.regionMatches(true, 0, scheme, 0, scheme.length())) {
            throw new ProtocolException(target.regionMatches(true, 0, "https://", 0, 8)
                    ? "https:// URLs go through CONNECT" : "a proxy request needs CONNECT or an absolute http:// URL");
        }
        String rest = target.substring(scheme.length());
        int pathStart = indexOfAny(rest, "/?#");
        String authorityText = pathStart < 0 ? rest : rest.substring(0, pathStart);
        String path = pathStart < 0 ? "/" : rest.substring(pathStart);
        int fragment = path.indexOf('#');
        path = fragment < 0 ? path : path.substring(0, fragment);
        path = path.startsWith("/") ? path : "/" + path;
        Authority authority = Authority.parse(authorityText, HTTP_PORT);
        // The server must see the host that was decided on, whatever Host the client wrote.
        HttpHead forwarded = head.without(name -> name.equals("host")).forOneHop()
                .withStartLine(line.method() + " " + path + " " + line.version())
                .with("Host", authorityText);
        return new Exchange(authority.host(), authority.port(), forwarded, BodyFraming.of(head));
    }

    /** The transparent HTTP listener: an origin-form request, routed by its Host field to port 80. */
    static ProxyRequest readTransparentHttp(InputStream in) throws IOException {
        HttpHead head = HttpHead.read(in);
        RequestLine line = RequestLine.parse(head.startLine());
        if (!line.target().startsWith("/")) {
            throw new ProtocolException("a request to port 80 needs a path starting with /");
        }
        List<String> hosts = head.values("Host");
        if (hosts.size() != 1) {
            throw new ProtocolException(hosts.isEmpty() ? "no Host field" : "more than one Host field");
        }
        // The client connected to port 80 of this name; a port in Host cannot change where it connected.
        Authority authority = Authority.parse(hosts.get(0), HTTP_PORT);
        return new Exchange(authority.host(), HTTP_PORT, head.forOneHop(), BodyFraming.of(head));
    }

    /** The transparent TLS listener: the ClientHello's server name, on port 443. */
    static ProxyRequest readTransparentTls(InputStream in) throws IOException {
        ClientHello hello = ClientHello.read(in);
        String name = hello.serverName().orElseThrow(
                () -> new ProtocolException("the TLS ClientHello names no server (no SNI)"));
        return new Tunnel(name, HTTPS_PORT, hello.bytes(), Via.TLS);
    }

    private static int indexOfAny(String text, String characters) {
        for (int i = 0; i < text.length(); i++) {
            if (characters.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    record RequestLine(String method, String target, String version) {

        private static final Pattern METHOD = Pattern.compile("[A-Z]{1,20}");

        static RequestLine parse(String line) throws ProtocolException {
            String[] parts = line.split(" ", -1);
            if (parts.length != 3 || !METHOD.matcher(parts[0]).matches() || parts[1].isEmpty()
                    || !(parts[2].equals("HTTP/1.1") || parts[2].equals("HTTP/1.0"))) {
                throw new ProtocolException("not an HTTP/1.x request line: " + UntrustedText.excerpt(line));
            }
            return new RequestLine(parts[0], parts[1], parts[2]);
        }
    }

    /** host[:port] or [v6]:port, with any user information refused rather than parsed around. */
    record Authority(String host, int port) {

        private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

        /** A defaultPort of -1 means the port is required. */
        static Authority parse(String text, int defaultPort) throws ProtocolException {
            if (text.contains("@")) {
                throw new ProtocolException("user information in the address is not accepted: "
                        + UntrustedText.excerpt(text));
            }
            String host = text;
            String port = null;
            if (text.startsWith("[")) {
                int close = text.indexOf(']');
                if (close < 0) {
                    throw new ProtocolException("malformed address: " + UntrustedText.excerpt(text));
                }
                host = text.substring(0, close + 1);
                String after = text.substring(close + 1);
                if (after.startsWith(":")) {
                    port = after.substring(1);
                } else if (!after.isEmpty()) {
                    throw new ProtocolException("malformed address: " + UntrustedText.excerpt(text));
                }
            } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
                host = text.substring(0, text.indexOf(':'));
                port = text.substring(text.indexOf(':') + 1);
            }
            // More than one colon and no brackets: an IPv6 literal, left whole for the gatekeeper to deny.
            if (host.isEmpty()) {
                throw new ProtocolException("no host in " + UntrustedText.excerpt(text));
            }
            if (port == null) {
                if (defaultPort < 0) {
                    throw new ProtocolException("CONNECT needs host:port, not " + UntrustedText.excerpt(text));
                }
                return new Authority(host.toLowerCase(Locale.ROOT), defaultPort);
            }
            if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw new ProtocolException("invalid port in " + UntrustedText.excerpt(text));
            }
            return new Authority(host.toLowerCase(Locale.ROOT), Integer.parseInt(port));
        }
    }
}
