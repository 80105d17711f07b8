package dev.claudecage.net;

import dev.claudecage.CageException;
import dev.claudecage.process.DiesWithParent;
import dev.claudecage.process.ProcessRunner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Records every packet the cage's firewall drops in the audit log. The rule logs to a netlink
 * group ({@code log group}); kernel logging from a namespace other than the host's is off by
 * default (net.netfilter.nf_log_all_netns), and turning it on would change the whole host, so
 * tcpdump reads the group from inside the cage's namespace instead, and we parse its lines.
 */
public final class DropLogger implements AutoCloseable {

    /** tcpdump -tt -n -q: "1795858241.374869 IP 10.213.0.2.48660 > 10.213.0.1.9999: tcp 0". */
    private static final Pattern PACKET = Pattern.compile("^(\\d+)\\.(\\d+) (IP6?) (\\S+) > (\\S+?):? (.*)$");
    private static final Pattern LENGTH = Pattern.compile("(?:tcp|length) (\\d+)");
    private static final long START_TIMEOUT_SECONDS = 10;

    private final Process tcpdump;
    private final Thread reader;

    private DropLogger(Process tcpdump, Thread reader) {
        this.tcpdump = tcpdump;
        this.reader = reader;
    }

    /** Starts the reader and waits until it listens, so that no early packet goes unrecorded. */
    public static DropLogger start(CageNetwork network, AuditLog audit, ProcessRunner runner) {
        Process tcpdump = runner.startBackground(DiesWithParent.wrap(network.inNamespace(List.of("tcpdump", "-i",
                "nflog:" + Firewall.DROP_LOG_GROUP, "-n", "-l", "-tt", "-q", "-Z", "root"))));
        CountDownLatch listening = new CountDownLatch(1);
        StringBuilder startup = new StringBuilder();
        Thread errors = new Thread(() -> watchStartup(tcpdump, listening, startup), "drop-logger-stderr");
        errors.setDaemon(true);
        errors.start();
        Thread reader = new Thread(() -> recordDrops(tcpdump, audit), "drop-logger");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!listening.await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                tcpdump.destroyForcibly();
                throw new CageException("the firewall's drop logger (tcpdump) did not start: " + startup.toString().strip(),
                        "install tcpdump (apt-get install tcpdump); it records dropped packets in the audit log");
            }
        } catch (InterruptedException e) {
            tcpdump.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while starting the drop logger");
        }
        return new DropLogger(tcpdump, reader);
    }

    private static void watchStartup(Process tcpdump, CountDownLatch listening, StringBuilder startup) {
        try (BufferedReader err = new BufferedReader(new InputStreamReader(tcpdump.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = err.readLine()) != null) {
                synchronized (startup) {
                    startup.append(line).append('\n');
                }
                if (line.startsWith("listening on")) {
                    listening.countDown();
                }
            }
        } catch (IOException ended) {
            // tcpdump has gone; its exit is handled by close().
        }
    }

    private static void recordDrops(Process tcpdump, AuditLog audit) {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(tcpdump.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                parse(line).ifPresent(audit::record);
            }
        } catch (IOException ended) {
            // tcpdump has gone; its exit is handled by close().
        }
    }

    /** One tcpdump line as an audit event, or empty for lines that are not packets. */
    static Optional<AuditEvent> parse(String line) {
        Matcher packet = PACKET.matcher(line);
        if (!packet.matches()) {
            return Optional.empty();
        }
        Instant time = Instant.ofEpochSecond(Long.parseLong(packet.group(1)),
                Long.parseLong((packet.group(2) + "000000000").substring(0, 9)));
        String destination = packet.group(5);
        String rest = packet.group(6);
        Integer port = null;
        boolean hasPort = rest.startsWith("tcp") || rest.startsWith("UDP");
        int lastDot = destination.lastIndexOf('.');
        if (hasPort && lastDot > 0) {
            port = Integer.parseInt(destination.substring(lastDot + 1));
            destination = destination.substring(0, lastDot);
        }
        Matcher length = LENGTH.matcher(rest);
        Long bytes = length.find() ? Long.parseLong(length.group(1)) : null;
        String protocol = rest.startsWith("tcp") ? "tcp" : rest.startsWith("UDP") ? "udp" : rest.split("[ ,]")[0].toLowerCase();
        return Optional.of(new AuditEvent(time, "firewall", destination, port, AuditEvent.DENIED,
                "dropped by the cage's firewall (" + protocol + ")", bytes, null));
    }

    @Override
    public void close() {
        tcpdump.destroy();
        try {
            if (!tcpdump.waitFor(5, TimeUnit.SECONDS)) {
                tcpdump.destroyForcibly();
            }
            // The reader ends with tcpdump's output: wait, so the last drops are in the log.
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
