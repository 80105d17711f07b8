package dev.claudecage.net;

import java.util.Locale;

/**
 * One allowed_hosts entry: an exact name or a {@code *.domain} wildcard, and a port.
 * A wildcard covers every name below the domain, never the domain itself.
 */
public record HostRule(String pattern, int port) {

    public static final int DEFAULT_PORT = 443;

    /** Parses a validated allowed_hosts entry: NAME, NAME:PORT, *.DOMAIN or *.DOMAIN:PORT. */
    public static HostRule parse(String entry) {
        String text = entry.toLowerCase(Locale.ROOT);
        int colon = text.lastIndexOf(':');
        return colon < 0 ? new HostRule(text, DEFAULT_PORT)
                : new HostRule(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }

    /** A {@code *.domain} entry, which covers names the user did not list one by one. */
    public boolean isWildcard() {
        return pattern.startsWith("*.");
    }

    public boolean matchesName(String host) {
        String name = normalize(host);
        return isWildcard() ? name.endsWith(pattern.substring(1)) : name.equals(pattern);
    }

    public boolean matches(String host, int requestedPort) {
        return requestedPort == port && matchesName(host);
    }

    /** Lower case, without the trailing dot of a fully qualified name. */
    public static String normalize(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
