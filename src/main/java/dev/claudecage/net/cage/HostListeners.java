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
            String[] columns = line.strip().split("\\s+");
            if (columns.length < 4 || !columns[3].equals(LISTEN)) {
                continue;
            }
            String[] local = columns[1].split(":");
            if (local.length == 2 && ANY_ADDRESS.matcher(local[0]).matches()) {
                ports.add(Integer.parseInt(local[1], 16));
            }
        }
        return ports;
    }
}
