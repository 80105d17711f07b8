package dev.claudecage.net.cage;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.process.Executables;
import dev.claudecage.process.DiesWithParent;
import dev.claudecage.process.ProcessRunner;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
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
 * <p>
 * The packets are the cage's own, crafted as it likes, and tcpdump's dissectors are large C
 * code: tcpdump keeps root only to open the group, then runs as its own unprivileged user with no
 * capabilities, no way back up (no_new_privs, a bounding set of the three capabilities it starts
 * with), and sees no more of each packet than the headers the audit line needs. Its lines are read
 * as hostile too: bounded in length, and nothing from them reaches the audit log but a timestamp,
 * an address, a port, a protocol name and a length, each checked against its form.
 */
public final class DropLogger implements AutoCloseable {

    /** tcpdump -tt -n -q: "1795858241.374869 IP 10.213.0.2.48660 > 10.213.0.1.9999: tcp 0". */
    private static final Pattern PACKET = Pattern.compile(
            "^(\\d{1,12})\\.(\\d{1,9}) (IP6?) (\\S+) > (\\S+?):? (.*)$");
    private static final Pattern LENGTH = Pattern.compile("(?:tcp|length) (\\d{1,9})\\b");
    /** What tcpdump -n prints for an address: digits and dots, or hex digits and colons (with dots for a mapped IPv4). */
    private static final Pattern ADDRESS4 = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");
    private static final Pattern ADDRESS6 = Pattern.compile("[0-9a-f:.]*:[0-9a-f:.]*");
    private static final Pattern PROTOCOL = Pattern.compile("[a-z][a-z0-9-]{0,15}");
    private static final long START_TIMEOUT_SECONDS = 10;
    /**
     * Bytes of each packet tcpdump gets: an IPv6 header with 88 bytes of extension headers and TCP
     * or UDP header, or an IPv4 header with the longest options and then the same; what follows
     * the transport header is never looked at.
     */
    static final int SNAPSHOT_BYTES = 128;
    /** tcpdump's own unprivileged user, made by Debian's tcpdump package (its default -Z). */
    static final String TCPDUMP_USER = "tcpdump";
    /** A packet line is about 80 characters; a longer one is not one of tcpdump's packet lines, and is skipped whole. */
    static final int MAX_LINE_BYTES = 512;
    /** What of tcpdump's error output is kept for the message when it does not start. */
    private static final int MAX_STARTUP_CHARS = 2000;

    private final Process tcpdump;
    private final Thread reader;
    private final CountDownLatch listening;
    private final StringBuilder startup;

    private DropLogger(Process tcpdump, Thread reader, CountDownLatch listening, StringBuilder startup) {
        this.tcpdump = tcpdump;
        this.reader = reader;
        this.listening = listening;
        this.startup = startup;
    }

    /** Starts the reader and waits until it listens, so that no early packet goes unrecorded. */
    public static DropLogger start(CageNetwork network, AuditLog audit, ProcessRunner runner) {
        DropLogger logger = launch(network, audit, runner);
        try {
            logger.awaitListening();
        } catch (RuntimeException e) {
            throw Teardown.closeAfter(logger, e);
        }
        return logger;
    }

    /**
     * Starts the reader without waiting for it: its start (four programs, one after the other) overlaps with
     * what its caller starts meanwhile. {@link #awaitListening} before the cage runs.
     */
    public static DropLogger launch(CageNetwork network, AuditLog audit, ProcessRunner runner) {
        Process tcpdump = runner.startBackground(DiesWithParent.wrap(network.inNamespace(command())));
        CountDownLatch listening = new CountDownLatch(1);
        StringBuilder startup = new StringBuilder();
        DaemonThreads.start("drop-logger-stderr", () -> watchStartup(tcpdump, listening, startup));
        Thread reader = DaemonThreads.start("drop-logger", () -> recordDrops(tcpdump, audit));
        return new DropLogger(tcpdump, reader, listening, startup);
    }

    /** Waits until the reader listens, so that no early packet goes unrecorded; fails when it does not start. */
    public void awaitListening() {
        try {
            if (!listening.await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                tcpdump.destroyForcibly();
                String said;
                synchronized (startup) {
                    said = UntrustedText.excerpt(startup.toString().strip());
                }
                throw new CageException("the firewall's drop logger (tcpdump) did not start: " + said,
                        "install tcpdump (apt-get install tcpdump), whose package also makes the unprivileged user '"
                                + TCPDUMP_USER + "' it runs as; it records dropped packets in the audit log");
            }
        } catch (InterruptedException e) {
            tcpdump.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while starting the drop logger");
        }
    }

    /**
     * tcpdump on the drop log group: it opens the group as root, then becomes {@link #TCPDUMP_USER}
     * (-Z). setpriv first leaves it only the capabilities it needs until then (opening the group
     * takes CAP_NET_ADMIN, becoming the user CAP_SETUID and CAP_SETGID) and sets no_new_privs, so
     * that a tcpdump taken over by a packet cannot get root back through a setuid program.
     */
    static List<String> command() {
        String setpriv = Executables.find("setpriv").map(java.nio.file.Path::toString).orElseThrow(() -> new CageException(
                "setpriv is not installed; claude-cage needs it to start the drop logger without privileges",
                "apt-get install util-linux"));
        return List.of(setpriv, "--no-new-privs", "--bounding-set", "-all,+net_admin,+setuid,+setgid", "--",
                "tcpdump", "-i", "nflog:" + Firewall.DROP_LOG_GROUP, "-n", "-l", "-tt", "-q",
                "-s", Integer.toString(SNAPSHOT_BYTES), "-Z", TCPDUMP_USER);
    }

    private static void watchStartup(Process tcpdump, CountDownLatch listening, StringBuilder startup) {
        try (InputStream err = new BufferedInputStream(tcpdump.getErrorStream())) {
            String line;
            while ((line = readLine(err)) != null) {
                // Once it listens, what it says goes nowhere: read on, so that tcpdump never blocks on a full pipe.
                if (listening.getCount() == 0) {
                    continue;
                }
                synchronized (startup) {
                    if (startup.length() < MAX_STARTUP_CHARS) {
                        startup.append(line).append('\n');
                    }
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
        try (InputStream out = new BufferedInputStream(tcpdump.getInputStream())) {
            String line;
            while ((line = readLine(out)) != null) {
                parse(line).ifPresent(audit::record);
            }
        } catch (IOException ended) {
            // tcpdump has gone; its exit is handled by close().
        }
    }

    /**
     * The next line of {@code in}, as ISO-8859-1 (one char per byte), without its newline; an empty
     * line in place of one longer than {@link #MAX_LINE_BYTES}, which is read to its end and
     * dropped; null at the end of the stream.
     */
    static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        boolean tooLong = false;
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (line.length() < MAX_LINE_BYTES) {
                line.append((char) b);
            } else {
                tooLong = true;
            }
        }
        if (b < 0 && line.length() == 0) {
            return null;
        }
        return tooLong ? "" : line.toString();
    }

    /**
     * One tcpdump line as an audit event, or empty for lines that are not packets or whose fields
     * are not of their form (an address that is not one, a port past 65535): such a line did not
     * come from tcpdump's packet printer as we know it, and nothing of it is kept.
     */
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
        if (hasPort) {
            if (lastDot <= 0 || !destination.substring(lastDot + 1).matches("\\d{1,5}")) {
                return Optional.empty();
            }
            port = Integer.parseInt(destination.substring(lastDot + 1));
            destination = destination.substring(0, lastDot);
        }
        boolean ipv6 = packet.group(3).equals("IP6");
        if (port != null && port > 65535 || !(ipv6 ? ADDRESS6 : ADDRESS4).matcher(destination).matches()) {
            return Optional.empty();
        }
        Matcher length = LENGTH.matcher(rest);
        Long bytes = length.find() ? Long.parseLong(length.group(1)) : null;
        String protocol = rest.startsWith("tcp") ? "tcp" : rest.startsWith("UDP") ? "udp" : rest.split("[ ,]")[0].toLowerCase();
        if (!PROTOCOL.matcher(protocol).matches()) {
            protocol = "other";
        }
        return Optional.of(new AuditEvent(time, "firewall", destination, port, AuditEvent.DENIED,
                "dropped by the cage's firewall (" + protocol + ")", bytes, null));
    }

    @Override
    public void close() {
        try {
            ProcessRunner.stop(tcpdump, Duration.ofSeconds(5));
            // The reader ends with tcpdump's output: wait, so the last drops are in the log.
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
