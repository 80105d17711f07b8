package dev.claudecage.runtime;

import dev.claudecage.config.Sizes;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.image.store.Digest;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditReportPage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What a cage changed in one writable mount, for the evidence trail: the files' SHA-256 before the cage
 * starts and after it ends, compared. A hash, not a time stamp, because the cage sets the times of what it
 * writes. The folder is the cage's to fill, so the snapshot is bounded (a number of files, past which the rest
 * is not compared, and of bytes read, past which files are compared by size; a line says either) and read through {@link UntrustedDirectory}:
 * no link is followed, no other mount entered.
 */
public final class MountChanges {

    /** The source of the trail's lines about files. */
    public static final String SOURCE = AuditReportPage.FILES_SOURCE;
    public static final String ADDED = "added";
    public static final String CHANGED = "changed";
    public static final String REMOVED = "removed";
    public static final String CAPPED = "capped";

    /**
     * How much of a mount a snapshot reads, and how many lines the changes take.
     *
     * @param names the most names (files, folders, links) a snapshot looks at
     * @param files the most files a snapshot hashes
     * @param bytes the most bytes it reads; a file past them is compared by its size only
     * @param lines the most change lines written for one mount
     */
    public record Limits(int names, int files, long bytes, int lines) {
        public static final Limits DEFAULT = new Limits(50_000, 10_000, 128L << 20, 1_000);
    }

    /**
     * One file as a snapshot saw it.
     *
     * @param sha256 its SHA-256 in hex, or null when it was past the bytes a snapshot reads: then only its size is compared
     */
    public record FileState(long size, String sha256) {

        String described() {
            return (sha256 == null ? "not hashed (past the bytes read)" : "sha256:" + sha256) + ", " + size + " bytes";
        }

        boolean sameAs(FileState other) {
            return size == other.size && (sha256 == null || other.sha256 == null || sha256.equals(other.sha256));
        }
    }

    /**
     * One mount's files.
     *
     * @param files  by path below the mount
     * @param capped whether the snapshot stopped at a limit, so that files beyond it were not seen
     */
    public record Snapshot(Map<String, FileState> files, boolean capped) {

        /** This snapshot without the file {@code relative}, or as it is when that is null. */
        public Snapshot without(String relative) {
            if (relative == null || !files.containsKey(relative)) {
                return this;
            }
            Map<String, FileState> rest = new TreeMap<>(files);
            rest.remove(relative);
            return new Snapshot(rest, capped);
        }
    }

    private MountChanges() {
    }

    /** The regular files beneath {@code folder}, hashed, within {@code limits}. */
    public static Snapshot take(Path folder, Limits limits) throws IOException {
        Map<String, FileState> files = new TreeMap<>();
        long[] read = {0};
        byte[] buffer = new byte[64 * 1024];
        boolean whole;
        try (UntrustedDirectory directory = UntrustedDirectory.open(folder)) {
            whole = directory.walkFiles(limits.names(), (relative, entry, content) -> {
                if (files.size() >= limits.files()) {
                    return false;
                }
                if (read[0] + entry.size() > limits.bytes()) {
                    files.put(relative, new FileState(entry.size(), null));
                    return true;
                }
                FileState state = hash(content, buffer, limits.bytes() - read[0]);
                read[0] += state.size();
                files.put(relative, state);
                return true;
            });
        }
        return new Snapshot(files, !whole);
    }

    /** A file's size and SHA-256, reading at most {@code most} bytes (a file growing as it is read is cut there). */
    private static FileState hash(InputStream content, byte[] buffer, long most) throws IOException {
        MessageDigest digest = Digest.sha256();
        long size = 0;
        for (int count = content.read(buffer); count > 0 && size < most; count = content.read(buffer)) {
            int kept = (int) Math.min(count, most - size);
            digest.update(buffer, 0, kept);
            size += kept;
        }
        return new FileState(size, HexFormat.of().formatHex(digest.digest()));
    }

    /** The line that says a mount's files could not be read {@code when}, so that what the cage changed there is not told. */
    public static AuditEvent unreadable(Instant time, String target, String when, IOException problem) {
        return AuditEvent.about(time, SOURCE, CAPPED, target + ": its files could not be read " + when
                + ", so what the cage changed there is not told: " + problem.getMessage());
    }

    /**
     * The trail's lines for what changed in the mount seen at {@code target} in the cage between two
     * snapshots: each file added, changed or removed with its SHA-256, in path order, at most
     * {@link Limits#lines()}; a last line when a snapshot or the list was capped. None when nothing changed.
     */
    public static List<AuditEvent> lines(Instant time, String target, Snapshot before, Snapshot after, Limits limits) {
        List<AuditEvent> lines = new ArrayList<>();
        TreeSet<String> paths = new TreeSet<>(before.files().keySet());
        paths.addAll(after.files().keySet());
        int changes = 0;
        for (String path : paths) {
            FileState was = before.files().get(path);
            FileState now = after.files().get(path);
            String shown = target.replaceAll("/+$", "") + "/" + path;
            String decision;
            String reason;
            if (was == null) {
                decision = ADDED;
                reason = shown + ": " + now.described();
            } else if (now == null) {
                decision = REMOVED;
                reason = shown + ": removed; it was " + was.described();
            } else if (!was.sameAs(now)) {
                decision = CHANGED;
                reason = shown + ": " + now.described() + "; it was " + was.described();
            } else {
                continue;
            }
            if (++changes <= limits.lines()) {
                lines.add(AuditEvent.about(time, SOURCE, decision, reason));
            }
        }
        List<String> caps = new ArrayList<>();
        if (changes > limits.lines()) {
            caps.add((changes - limits.lines()) + " more changes not listed (the trail lists " + limits.lines()
                    + " a mount)");
        }
        if (Stream.of(before, after).anyMatch(snapshot -> snapshot.files().values().stream()
                .anyMatch(file -> file.sha256() == null))) {
            caps.add("files past the " + Sizes.format(limits.bytes()) + " a snapshot reads were compared by size only, "
                    + "so a change that kept a file's size is not seen there");
        }
        if (before.capped() || after.capped()) {
            caps.add("the folder holds more than the " + limits.files() + " files or " + limits.names() + " names a "
                    + "snapshot looks at: only the files read " + (before.capped() ? "before the cage started" : "")
                    + (before.capped() && after.capped() ? " and " : "") + (after.capped() ? "after it ended" : "")
                    + " were compared, the first in path order; a file beyond them may have changed unseen");
        }
        if (!caps.isEmpty()) {
            lines.add(AuditEvent.about(time, SOURCE, CAPPED, target + ": " + String.join("; ", caps)));
        }
        return lines;
    }
}
