package dev.claudecage.net.ssh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The host keys of the hosts the forwarded agent may sign for, read from known_hosts files in
 * OpenSSH's format: plain and hashed ({@code |1|salt|hash}) host patterns, {@code [host]:port}
 * entries, and {@code @revoked} markers (a revoked key is never accepted, whatever else lists it).
 * Wildcard and negated patterns and {@code @cert-authority} lines are not used: a host listed for
 * the agent must have its own key on record.
 */
public final class KnownHosts {

    /** One allowed key: its wire blob and the listed host it belongs to. */
    public record HostKey(String host, byte[] blob) {
    }

    private final List<HostKey> keys;

    private KnownHosts(List<HostKey> keys) {
        this.keys = List.copyOf(keys);
    }

    /**
     * Reads {@code files} (missing ones are skipped) for the keys of {@code hosts}.
     *
     * @throws IOException when a file that exists cannot be read
     */
    public static KnownHosts read(List<Path> files, List<String> hosts) throws IOException {
        List<HostKey> found = new ArrayList<>();
        List<byte[]> revoked = new ArrayList<>();
        for (Path file : files) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                continue;
            }
            for (String line : lines) {
                parse(line.strip(), hosts, found, revoked);
            }
        }
        found.removeIf(key -> revoked.stream().anyMatch(blob -> MessageDigest.isEqual(blob, key.blob())));
        return new KnownHosts(found);
    }

    private static void parse(String line, List<String> hosts, List<HostKey> found, List<byte[]> revoked) {
        if (line.isEmpty() || line.startsWith("#")) {
            return;
        }
        String[] fields = line.split("\\s+");
        int first = 0;
        String marker = null;
        if (fields[0].startsWith("@")) {
            marker = fields[0];
            first = 1;
        }
        if (fields.length < first + 3) {
            return;
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(fields[first + 2]);
        } catch (IllegalArgumentException e) {
            return;
        }
        if ("@revoked".equals(marker)) {
            revoked.add(blob);
            return;
        }
        if (marker != null) {
            return;
        }
        for (String host : hosts) {
            if (matches(fields[first], host)) {
                found.add(new HostKey(host, blob));
            }
        }
    }

    /** Whether a known_hosts pattern list names exactly this host (on any port). */
    static boolean matches(String patterns, String host) {
        for (String pattern : patterns.split(",")) {
            if (pattern.startsWith("|1|")) {
                if (hashedMatch(pattern, host)) {
                    return true;
                }
                continue;
            }
            String name = pattern.toLowerCase(Locale.ROOT);
            if (name.startsWith("[") && name.contains("]:")) {
                name = name.substring(1, name.indexOf("]:"));
            }
            if (name.equals(host)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hashedMatch(String pattern, String host) {
        String[] parts = pattern.split("\\|");
        if (parts.length != 4) {
            return false;
        }
        try {
            byte[] salt = Base64.getDecoder().decode(parts[2]);
            byte[] expected = Base64.getDecoder().decode(parts[3]);
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(salt, "HmacSHA1"));
            return MessageDigest.isEqual(mac.doFinal(host.getBytes(StandardCharsets.UTF_8)), expected);
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return false;
        }
    }

    /** The listed host this key belongs to, or null when it belongs to none. */
    public String hostOf(byte[] blob) {
        for (HostKey key : keys) {
            if (MessageDigest.isEqual(key.blob(), blob)) {
                return key.host();
            }
        }
        return null;
    }

    /** Which listed hosts have at least one key on record. */
    public Map<String, Integer> keyCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        keys.forEach(key -> counts.merge(key.host(), 1, Integer::sum));
        return counts;
    }

    /** The keys as known_hosts lines, for the cage's ssh to check servers against. */
    public String asKnownHostsFile() {
        StringBuilder text = new StringBuilder();
        for (HostKey key : keys) {
            String type;
            try {
                type = new SshReader(key.blob()).readText();
            } catch (java.net.ProtocolException e) {
                continue;
            }
            text.append(key.host()).append(' ').append(type).append(' ')
                    .append(Base64.getEncoder().encodeToString(key.blob())).append('\n');
        }
        return text.toString();
    }
}
