package dev.claudecage.net.cage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The TCP ports that programs on this host listen on at every address (0.0.0.0 or ::): such a port is
 * held on each cage's gateway address too, so a TCP relay cannot listen there (sshd on 22, say).
 */
public final class HostListeners {

    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    private static final String LISTEN = "0A";
    private static final Pattern ANY_ADDRESS = Pattern.compile("0+");

    private HostListeners() {
    }

    /** The ports held at every address of the host's network namespace, read from /proc/net/tcp and tcp6. */
    public static Set<Integer> portsOnAllAddresses() {
        Set<Integer> ports = new TreeSet<>();
        for (Path table : TABLES) {
            try {
                ports.addAll(portsOnAllAddresses(Files.readAllLines(table)));
            } catch (IOException e) {
                // No IPv6 on this host: no table, and nothing listens there.
            }
        }
        return ports;
    }

    /** The same from the lines of one table: local address all zeros, state LISTEN. */
    static Set<Integer> portsOnAllAddresses(List<String> tableLines) {
        Set<Integer> ports = new TreeSet<>();
        for (String line : tableLines) {
            String[] columns = firstColumns(line, 4);
            if (columns == null || !columns[3].equals(LISTEN)) {
                continue;
            }
            String[] local = columns[1].split(":");
            if (local.length == 2 && ANY_ADDRESS.matcher(local[0]).matches()) {
                ports.add(Integer.parseInt(local[1], 16));
            }
        }
        return ports;
    }

    /**
     * The first {@code count} columns of a line, separated by spaces, or null when it has fewer: a busy host's
     * table has a line for each of its sockets, and a regular expression's split of each whole line cost a
     * filtered cage's start tens of milliseconds.
     */
    private static String[] firstColumns(String line, int count) {
        String[] columns = new String[count];
        int end = 0;
        for (int i = 0; i < count; i++) {
            int start = end;
            while (start < line.length() && Character.isWhitespace(line.charAt(start))) {
                start++;
            }
            end = start;
            while (end < line.length() && !Character.isWhitespace(line.charAt(end))) {
                end++;
            }
            if (start == end) {
                return null;
            }
            columns[i] = line.substring(start, end);
        }
        return columns;
    }
}
