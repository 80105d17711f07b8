package dev.claudecage.net;

import dev.claudecage.CageException;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.config.Sizes;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.json.Json;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ObjLongConsumer;

/**
 * The per-cage audit log: one JSON line per decision, appended and flushed at once so that a
 * crash loses nothing already decided. Thread-safe; the proxy, gateways and DNS stub share one.
 * Each line is printable ASCII ({@link Json#writePlainLine}): a name or CONNECT target the cage chose
 * reaches whoever reads the log as escapes, never as control characters for a terminal.
 * <p>
 * What the cage sends decides what is written, so the log is bounded three ways, lest the cage fill
 * the host's disk through it: each line's cage-chosen text is cut ({@link AuditEvent#bounded}), each
 * source's lines are rate-limited ({@link AuditThrottle}: a flood becomes summary lines that count it),
 * and the file has a size cap, at which a last line says so and later events are only counted.
 * <p>
 * The file may lie in a folder the cage writes ({@code --mount $PWD:/workspace --audit-log
 * audit.jsonl}), where the cage can replace it between two runs by a link to any host file,
 * which a root launcher would then append to. So it is opened through {@link UntrustedDirectory},
 * beneath the writable folder: no link on the way or as its name is followed, and only a
 * regular file with a single name is appended to; anything else stops the start, with the reason.
 */
public final class AuditLog implements AutoCloseable {

    /** The {@code source} of the log's own line at its size cap. */
    public static final String AUDIT_SOURCE = "audit";
    /** The decision of that line. */
    public static final String FULL = "full";
    /** Lines each source may write at once, and then each second. */
    static final int BURST = 1000;
    static final int PER_SECOND = 100;
    /** Room kept below the cap for the line that says the cap is reached. */
    private static final int FULL_LINE_ROOM = 512;

    private final Path file;
    private final OutputStream out;
    private final long limitBytes;
    private final Map<String, AuditThrottle> throttles = new ConcurrentHashMap<>();
    /** Events past the cap, counted per source and decision. */
    private final Map<String, Long> unwritten = new TreeMap<>();
    private long bytes;
    private boolean full;
    private long denied;
    /** The SHA-256 of the last line in the file, which the next line carries; null while it is empty. */
    private String lastLineSha256;
    private final boolean cageWritable;

    /** Whether the file's last line lacks its newline (a crash mid-write): the next line ends it first. */
    private boolean lastLineUnended;

    private AuditLog(Path file, OutputStream out, long limitBytes, long bytes, LastLine last, boolean cageWritable) {
        this.file = file;
        this.cageWritable = cageWritable;
        this.lastLineSha256 = last == null ? null : AuditEvent.sha256Hex(last.text());
        this.lastLineUnended = last != null && !last.ended();
        this.out = out;
        this.limitBytes = limitBytes;
        this.bytes = bytes;
        this.full = bytes + FULL_LINE_ROOM >= limitBytes;
    }

    /** {@link #open(Path, Collection, long)} with the default size cap. */
    public static AuditLog open(Path file, Collection<Path> cageWritable) {
        return open(file, cageWritable, EgressSettings.DEFAULT_AUDIT_LOG_LIMIT);
    }

    /**
     * Opens (creating 0600, and its missing folders) the log for appending.
     *
     * @param cageWritable the folders the cage writes (its writable mounts)
     * @param limitBytes   the file's size cap (audit_log_limit), counting what it held before
     */
    public static AuditLog open(Path file, Collection<Path> cageWritable, long limitBytes) {
        try {
            UntrustedDirectory.Placement placement = UntrustedDirectory.place(file, cageWritable);
            try (UntrustedDirectory folder = UntrustedDirectory.open(placement.folder())) {
                int slash = placement.relative().lastIndexOf('/');
                if (slash > 0) {
                    folder.createDirectories(placement.relative().substring(0, slash), 0755);
                }
                OutputStream out = folder.openAppend(placement.relative(), 0600);
                long size = folder.stat(placement.relative()).map(UntrustedDirectory.Entry::size).orElse(0L);
                // A session's log is written over several starts: one chain, continued from its last line.
                LastLine last = LastLine.read(folder, placement.relative(), size);
                AuditLog log = new AuditLog(file, out, limitBytes, size, last, placement.cageWritable());
                if (placement.cageWritable()) {
                    System.err.println("claude-cage: note: the audit log " + file + " is in " + placement.folder()
                            + ", which the cage writes: the cage can change or remove it; for a record it cannot "
                            + "touch, keep it outside the cage's mounts");
                }
                if (log.full) {
                    System.err.println("claude-cage: note: the audit log " + file + " is at its size cap of "
                            + Sizes.format(limitBytes) + ": this cage's events will only be counted; move the file "
                            + "away or raise audit_log_limit");
                }
                return log;
            }
        } catch (IOException e) {
            String where = e instanceof FileSystemException problem && problem.getReason() != null
                    && file.toAbsolutePath().normalize().toString().equals(problem.getFile())
                    ? problem.getReason() : e.getMessage();
            throw new CageException("cannot open the audit log " + file + ": " + where,
                    "if the cage can write its folder, it may have put what is in the way there: look at it "
                            + "(ls -l " + file + ") before you remove it, or name a file outside the cage's mounts");
        }
    }

    /**
     * A log's last line, as far as it was written.
     *
     * @param ended whether it ends with its newline: a crash mid-write can leave it without one
     */
    private record LastLine(String text, boolean ended) {

        /** The last line of a file of {@code size} bytes; null for an empty one. */
        static LastLine read(UntrustedDirectory folder, String relative, long size) throws IOException {
            if (size == 0) {
                return null;
            }
            byte[] tail;
            try (InputStream in = folder.openRead(relative)) {
                long start = Math.max(0, size - MAX_LINE_BYTES - 1);
                in.skipNBytes(start);
                tail = in.readNBytes((int) (size - start));
            }
            boolean ended = tail.length > 0 && tail[tail.length - 1] == '\n';
            int end = ended ? tail.length - 1 : tail.length;
            int from = end;
            while (from > 0 && tail[from - 1] != '\n') {
                from--;
            }
            return new LastLine(new String(tail, from, end - from, StandardCharsets.UTF_8), ended);
        }
    }

    public Path file() {
        return file;
    }

    /** Whether the file is in a folder the cage writes, where only an anchor kept elsewhere shows it unchanged. */
    public boolean cageWritable() {
        return cageWritable;
    }

    /**
     * The SHA-256 of the last line written: the chain's end. Kept where the cage cannot write, it shows
     * that nothing before it changed, as the cage could rewrite a whole chain in a file it can write.
     */
    public synchronized String lastLineSha256() {
        return lastLineSha256;
    }

    /** Records one event: bounded, behind its source's rate limit, and within the size cap. */
    public void record(AuditEvent event) {
        synchronized (this) {
            // The trail's own lines (how the cage started and ended) are no decision against the cage.
            if (AuditEvent.DENIED.equals(event.decision()) || AuditEvent.CUT_OFF.equals(event.decision())) {
                denied++;
            }
        }
        throttles.computeIfAbsent(event.source(), source -> new AuditThrottle(this::write, source, BURST, PER_SECOND,
                System::nanoTime)).record(event.bounded());
    }

    private synchronized void write(AuditEvent event) {
        if (full) {
            unwritten.merge(event.source() + " " + event.decision(), 1L, Long::sum);
            return;
        }
        String text = Json.writePlainLine(event.after(lastLineSha256));
        if (bytes + text.length() + 1 + FULL_LINE_ROOM > limitBytes) {
            full = true;
            unwritten.merge(event.source() + " " + event.decision(), 1L, Long::sum);
            text = Json.writePlainLine(new AuditEvent(Instant.now(), AUDIT_SOURCE, null, null, FULL, "the audit log reached "
                    + "its size cap of " + Sizes.format(limitBytes) + " (audit_log_limit): later events are counted, not "
                    + "written", null, null, lastLineSha256));
        }
        byte[] line = ((lastLineUnended ? "\n" : "") + text + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            out.write(line);
            bytes += line.length;
            lastLineSha256 = AuditEvent.sha256Hex(text);
            lastLineUnended = false;
        } catch (IOException e) {
            // Losing the audit trail is a failure the user must hear about, not a silent gap.
            throw new CageException("cannot write the audit log " + file + ": " + e.getMessage());
        }
    }

    /**
     * How many events this log recorded that were not allowed; counted as they came, so that
     * nobody reads back a file the cage may have changed since.
     */
    public synchronized long denied() {
        return denied;
    }

    /** The events past the size cap, counted per "source decision" and not written. */
    public synchronized Map<String, Long> unwritten() {
        return Map.copyOf(unwritten);
    }

    /**
     * What a read of an audit log found.
     *
     * @param events     its events, oldest first
     * @param unreadable lines that were not an audit event (or longer than {@value #MAX_LINE_BYTES} bytes)
     */
    public record Contents(List<AuditEvent> events, long unreadable) {
    }

    /** The longest line read back: a written line is a few KiB at most ({@link AuditEvent#bounded}). */
    static final int MAX_LINE_BYTES = 64 << 10;

    /** Every event in a log file, oldest first; a line that is not one is an error. */
    public static List<AuditEvent> read(Path file) {
        Contents contents = readLeniently(file);
        if (contents.unreadable() > 0) {
            throw new CageException("the audit log " + file + " has " + contents.unreadable()
                    + " line(s) that are not audit events");
        }
        return contents.events();
    }

    /**
     * Every event in a log file, and a count of the lines that are not one. The file may be in a folder
     * the cage writes (--audit-log in the workspace) and hold anything the cage put there, so it is
     * opened beneath its folder without following a link, and read a bounded line at a time.
     */
    public static Contents readLeniently(Path file) {
        List<AuditEvent> events = new ArrayList<>();
        long[] unreadable = {0};
        eachLine(file, (text, number) -> {
            if (text == null) {
                unreadable[0]++;
            } else if (!text.isBlank()) {
                try {
                    events.add(Json.read(text, AuditEvent.class));
                } catch (RuntimeException notAnEvent) {
                    unreadable[0]++;
                }
            }
        });
        return new Contents(events, unreadable[0]);
    }

    /**
     * Each line of a log file with its number from 1, without its newline; null for a line longer than
     * {@value #MAX_LINE_BYTES} bytes. The file is opened beneath its folder without following a link: it
     * may be in a folder the cage writes.
     */
    static void eachLine(Path file, ObjLongConsumer<String> line) {
        Path absolute = file.toAbsolutePath().normalize();
        try (UntrustedDirectory folder = UntrustedDirectory.open(absolute.getParent());
             InputStream in = new BufferedInputStream(folder.openRead(absolute.getFileName().toString()))) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            boolean tooLong = false;
            long number = 0;
            for (int b = in.read(); ; b = in.read()) {
                if (b != '\n' && b >= 0) {
                    tooLong |= bytes.size() >= MAX_LINE_BYTES;
                    if (!tooLong) {
                        bytes.write(b);
                    }
                    continue;
                }
                if (b >= 0 || bytes.size() > 0 || tooLong) {
                    line.accept(tooLong ? null : bytes.toString(StandardCharsets.UTF_8), ++number);
                }
                if (b < 0) {
                    return;
                }
                bytes.reset();
                tooLong = false;
            }
        } catch (IOException e) {
            throw new CageException("cannot read the audit log " + file + ": " + e.getMessage(),
                    "name the log file itself, not a link to it, and not a file a cage may have put in its place");
        }
    }

    /**
     * Writes what the rate limits still count, and closes; says on stderr how many events the size
     * cap kept out, as nothing in the file can.
     */
    @Override
    public void close() {
        throttles.values().forEach(AuditThrottle::flush);
        synchronized (this) {
            if (!unwritten.isEmpty()) {
                System.err.println("claude-cage: the audit log " + file + " reached its size cap of "
                        + Sizes.format(limitBytes) + "; events counted but not written: " + unwritten);
            }
            try {
                out.close();
            } catch (IOException e) {
                throw new CageException("cannot close the audit log " + file + ": " + e.getMessage());
            }
        }
    }
}
