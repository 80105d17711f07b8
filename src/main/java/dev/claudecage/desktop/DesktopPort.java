package dev.claudecage.desktop;

import dev.claudecage.UserInputException;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a desktop session is published: the host address and port the supervisor serves the
 * desktop's page on, and the port in the cage's loopback its VNC server (x11vnc) listens on. Written like docker's {@code -p}:
 * {@code [ADDRESS:]HOSTPORT:CAGEPORT}, the address an IP literal ({@code [::1]} for IPv6),
 * 127.0.0.1 when left out.
 */
public record DesktopPort(InetAddress hostAddress, int hostPort, int cagePort) {

    public static final String DEFAULT = "127.0.0.1:6080:6080";
    private static final Pattern PORTS = Pattern.compile("([0-9]{1,5}):([0-9]{1,5})");
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final String FORMAT = "give [ADDRESS:]HOSTPORT:CAGEPORT, e.g. 127.0.0.1:6080:6080 or 6080:6080";

    public DesktopPort {
        checkPort(hostPort, "host port");
        checkPort(cagePort, "cage port");
    }

    public static DesktopPort parse(String text) {
        String spec = text.strip();
        String literal = null;
        String ports = spec;
        if (spec.startsWith("[")) {
            int close = spec.indexOf("]:");
            if (close < 0) {
                throw new UserInputException("--port '" + text + "' is not a port mapping", FORMAT);
            }
            literal = spec.substring(1, close);
            ports = spec.substring(close + 2);
        } else if (spec.chars().filter(c -> c == ':').count() == 2) {
            literal = spec.substring(0, spec.indexOf(':'));
            ports = spec.substring(spec.indexOf(':') + 1);
        }
        Matcher matcher = PORTS.matcher(ports);
        if (!matcher.matches() || (literal != null && !(isIpv4Literal(literal) || isIpv6Literal(literal)))) {
            throw new UserInputException("--port '" + text + "' is not a port mapping", FORMAT);
        }
        try {
            // Only IP literals reach here, so this never asks a resolver.
            InetAddress address = InetAddress.getByName(literal == null ? "127.0.0.1" : literal);
            return new DesktopPort(address, Integer.parseInt(matcher.group(1)), Integer.parseInt(matcher.group(2)));
        } catch (UnknownHostException e) {
            throw new UserInputException("--port '" + text + "': '" + literal + "' is not an IP address", FORMAT);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--port '" + text + "': " + e.getMessage(), FORMAT);
        }
    }

    /** A dotted quad with no octet above 255: anything else would be taken for a host name and looked up. */
    static boolean isIpv4Literal(String literal) {
        return IPV4.matcher(literal).matches()
                && java.util.Arrays.stream(literal.split("\\.")).allMatch(octet -> Integer.parseInt(octet) <= 255);
    }

    /** Hex digits, dots and colons, with a colon: what can only be an IPv6 address, never a name. */
    static boolean isIpv6Literal(String literal) {
        return IPV6.matcher(literal).matches();
    }

    private static void checkPort(int port, String what) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " " + port + " is not between 1 and 65535");
        }
    }

    /** Whether only this host can connect: the listen address is a loopback address. */
    public boolean loopbackOnly() {
        return hostAddress.isLoopbackAddress();
    }

    public InetSocketAddress listenAddress() {
        return new InetSocketAddress(hostAddress, hostPort);
    }

    /** The mapping as {@link #parse} reads it, the address always written out. */
    public String format() {
        return hostLiteral() + ":" + hostPort + ":" + cagePort;
    }

    /** The noVNC page; for an address that means "every address", the loopback one reaches it too. */
    public String url() {
        String host = hostAddress.isAnyLocalAddress()
                ? (hostAddress instanceof Inet6Address ? "[::1]" : "127.0.0.1") : hostLiteral();
        return "http://" + host + ":" + hostPort + "/vnc.html";
    }

    private String hostLiteral() {
        String literal = hostAddress.getHostAddress();
        return hostAddress instanceof Inet6Address ? "[" + literal.replaceAll("%.*$", "") + "]" : literal;
    }
}
