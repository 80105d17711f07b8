package dev.claudecage.image.registry;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How registries are reached. Which are spoken to in plain HTTP: those on loopback ({@code localhost},
 * {@code 127.0.0.0/8}, {@code ::1}, written as such: a name is not looked up, so DNS cannot turn
 * a remote registry into a "local" one) and those the {@code insecure_registries} key lists,
 * by host (any port) or host:port. Every other registry, and every token service, is HTTPS.
 * And which mirrors a pull tries first ({@code registry_mirrors}), by the registry as references
 * name it ({@code docker.io}).
 */
public record RegistryAccess(List<String> insecureRegistries, Map<String, List<URI>> mirrors) {

    private static final Pattern LOOPBACK_V4 = Pattern.compile("127(\\.[0-9]{1,3}){3}");

    public RegistryAccess {
        insecureRegistries = insecureRegistries.stream().map(entry -> entry.toLowerCase(Locale.ROOT)).toList();
        mirrors = Map.copyOf(mirrors);
    }

    /** Without mirrors. */
    public RegistryAccess(List<String> insecureRegistries) {
        this(insecureRegistries, Map.of());
    }

    /** The mirrors of {@code registry} (docker.io, ghcr.io, localhost:5000), in the order to try them. */
    public List<URI> mirrorsOf(String registry) {
        return mirrors.getOrDefault(registry.toLowerCase(Locale.ROOT), List.of());
    }

    /** {@code host} or {@code host:port}, as a reference or a URL names it. */
    public boolean plainHttp(String host, int port) {
        if (loopback(host)) {
            return true;
        }
        String bareHost = bare(host);
        String withPort = (bareHost.contains(":") ? "[" + bareHost + "]" : bareHost) + (port > 0 ? ":" + port : "");
        return insecureRegistries.contains(bareHost) || insecureRegistries.contains(withPort);
    }

    /** Whether {@code host} is this machine's loopback as written (a name is not resolved to decide). */
    public static boolean loopback(String host) {
        String bareHost = bare(host);
        return bareHost.equals("localhost") || bareHost.equals("::1") || LOOPBACK_V4.matcher(bareHost).matches();
    }

    private static String bare(String host) {
        return (host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host)
                .toLowerCase(Locale.ROOT);
    }

    /** The scheme to use for a registry written {@code host[:port]}. */
    public String scheme(String registry) {
        int colon = registry.lastIndexOf(':');
        boolean hasPort = colon > 0 && !registry.endsWith("]") && registry.indexOf(':') == colon;
        String host = hasPort ? registry.substring(0, colon) : registry;
        int port = hasPort ? Integer.parseInt(registry.substring(colon + 1)) : -1;
        return plainHttp(host, port) ? "http" : "https";
    }
}
