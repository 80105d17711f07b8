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
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * What a cage changed in one writable mount, for the evidence trail. Before the cage starts, a walk looks at
 * each regular file's inode, size, mtime and ctime, and opens none; after it ends, the same walk again, and
 * only a file that is new, or whose inode, size, mtime or ctime differ, is read for the SHA-256 of what the cage
 * left. Reading every file twice cost a start-up of seconds for a workspace the size of a repository.
 * <p>
 * The times alone would not do for the mtime: the cage sets that to anything ({@code touch -d}). The ctime it
 * cannot: the kernel sets it to the present at every change of a file's content or metadata, and setting the
 * clock takes {@code CAP_SYS_TIME} in the initial user namespace, which no cage has. A file the cage replaced is
 * another inode, with the ctime of its making. So a file whose inode, ctime and size are what they were before
 * the cage started is the file it was. The cage's first write comes after the runtime has started it, many
 * clock ticks after the walk, so even a coarse clock gives it another ctime.
 * <p>
 * The folder is the cage's to fill, so both walks are bounded (names looked at, files hashed, bytes read; a
 * line says what was past a bound), and they go through {@link UntrustedDirectory}: no link is followed, no
 * other mount entered.
 */
public final class MountChanges {

    /** The source of the trail's lines about files. */
    public static final String SOURCE = AuditReportPage.FILES_SOURCE;
    public static final String ADDED = "added";
    public static final String CHANGED = "changed";
    public static final String REMOVED = "removed";
    public static final String CAPPED = "capped";

    /**
     * How much of a mount the walks look at and read, and how many lines the changes take.
     *
     * @param names the most names (files, folders, links) a walk looks at
     * @param files the most files hashed after the cage ended
     * @param bytes the most bytes read to hash them; a file past them is told by its size only
     * @param lines the most change lines written for one mount
     */
    public record Limits(int names, int files, long bytes, int lines) {
        public static final Limits DEFAULT = new Limits(50_000, 10_000, 128L << 20, 1_000);
    }

    /**
     * One regular file as a walk saw it.
     *
     * @param content what the cage left in it, when it was read: null for a file as it was before the cage, or
     *                as it was then still
     */
    public record FileState(long inode, long size, Instant modified, Instant changed, Content content) {

        /** Whether this is the file {@code other} was: the same inode, not changed since (see the class comment). */
        boolean sameAs(FileState other) {
            return inode == other.inode && size == other.size && modified.equals(other.modified)
                    && changed.equals(other.changed);
        }

        FileState read(Content read) {
            return new FileState(inode, size, modified, changed, read);
        }
    }

    /**
     * A changed file's content.
     *
     * @param size   the bytes read, or its size when it was not read
     * @param sha256 their SHA-256 in hex, or null when it was past the files or bytes hashed
     */
    public record Content(long size, String sha256) {

        String described() {
            return (sha256 == null ? "not hashed (past what a snapshot reads)" : "sha256:" + sha256) + ", " + size
                    + " bytes";
        }
    }

    /**
     * One mount's regular files.
     *
     * @param files  by path below the mount (in no order: the lines sort them)
     * @param capped whether the walk stopped at its bound of names, so that files beyond it were not seen
     */
    public record Snapshot(Map<String, FileState> files, boolean capped) {

        /** This snapshot without the file {@code relative}, or as it is when that is null. */
        public Snapshot without(String relative) {
            if (relative == null || !files.containsKey(relative)) {
                return this;
            }
            Map<String, FileState> rest = new HashMap<>(files);
            rest.remove(relative);
            return new Snapshot(rest, capped);
        }
    }

    private MountChanges() {
    }

    /** The regular files beneath {@code folder}, as their metadata, within {@code limits}: nothing is opened. */
    public static Snapshot before(Path folder, Limits limits) throws IOException {
        Map<String, FileState> files = new HashMap<>();
        boolean whole;
        try (UntrustedDirectory directory = UntrustedDirectory.open(folder)) {
            whole = directory.walkFiles(limits.names(), (relative, entry, content) -> {
                files.put(relative, state(entry));
                return true;
            });
        }
        return new Snapshot(files, !whole);
    }

    /**
     * The regular files beneath {@code folder} now, each new or changed since {@code before} hashed, within
     * {@code limits}; {@code leftOut} (null for none) is left out, unread.
     */
    public static Snapshot after(Path folder, Snapshot before, String leftOut, Limits limits) throws IOException {
        Map<String, FileState> files = new HashMap<>();
        long[] read = {0};
        int[] hashed = {0};
        byte[] buffer = new byte[64 * 1024];
        boolean whole;
        try (UntrustedDirectory directory = UntrustedDirectory.open(folder)) {
            whole = directory.walkFiles(limits.names(), (relative, entry, content) -> {
                if (relative.equals(leftOut)) {
                    return true;
                }
                FileState now = state(entry);
                FileState was = before.files().get(relative);
                if (was != null && was.sameAs(now)) {
                    files.put(relative, now);
                    return true;
                }
                if (hashed[0] >= limits.files() || read[0] + entry.size() > limits.bytes()) {
                    files.put(relative, now.read(new Content(entry.size(), null)));
                    return true;
                }
                Optional<InputStream> opened = content.open();
                if (opened.isEmpty()) {
                    // No longer a regular file by that name: told as gone, as the walk would have found it a moment later.
                    return true;
                }
                try (InputStream stream = opened.get()) {
                    Content hash = hash(stream, buffer, limits.bytes() - read[0]);
                    hashed[0]++;
                    read[0] += hash.size();
                    files.put(relative, now.read(hash));
                }
                return true;
            });
        }
        return new Snapshot(files, !whole);
    }

    /**
     * A file mounted on its own, as its metadata: the one entry of its snapshot, named "" (its mount's target).
     * Read as the folders are, through {@link UntrustedDirectory} from the folder holding it (which another mount
     * may give the cage too): a link in the file's place is never followed.
     */
    public static Snapshot beforeFile(Path file) throws IOException {
        try (UntrustedDirectory folder = UntrustedDirectory.open(file.getParent())) {
            return new Snapshot(Map.of("", fileState(folder, file)), false);
        }
    }

    /** The file mounted on its own now, read and hashed when it changed since {@code before}, within {@code limits}. */
    public static Snapshot afterFile(Path file, Snapshot before, Limits limits) throws IOException {
        try (UntrustedDirectory folder = UntrustedDirectory.open(file.getParent())) {
            FileState now = fileState(folder, file);
            FileState was = before.files().get("");
            if (was != null && was.sameAs(now)) {
                return new Snapshot(Map.of("", now), false);
            }
            if (now.size() > limits.bytes()) {
                return new Snapshot(Map.of("", now.read(new Content(now.size(), null))), false);
            }
            try (InputStream stream = folder.openRead(file.getFileName().toString())) {
                return new Snapshot(Map.of("", now.read(hash(stream, new byte[64 * 1024], limits.bytes()))), false);
            }
        }
    }

    private static FileState fileState(UntrustedDirectory folder, Path file) throws IOException {
        UntrustedDirectory.Entry entry = folder.stat(file.getFileName().toString())
                .orElseThrow(() -> new IOException(file + " is gone"));
        if (entry.kind() != UntrustedDirectory.Entry.Kind.FILE) {
            throw new IOException(file + " is no longer a regular file");
        }
        return state(entry);
    }

    private static FileState state(UntrustedDirectory.Entry entry) {
        return new FileState(entry.inode(), entry.size(), entry.modified(), entry.changed(), null);
    }

    /** A file's size and SHA-256, reading at most {@code most} bytes (a file growing as it is read is cut there). */
    private static Content hash(InputStream content, byte[] buffer, long most) throws IOException {
        MessageDigest digest = Digest.sha256();
        long size = 0;
        for (int count = content.read(buffer); count > 0 && size < most; count = content.read(buffer)) {
            int kept = (int) Math.min(count, most - size);
            digest.update(buffer, 0, kept);
            size += kept;
        }
        return new Content(size, HexFormat.of().formatHex(digest.digest()));
    }

    /** The line that says a mount's files could not be read {@code when}, so that what the cage changed there is not told. */
    public static AuditEvent unreadable(Instant time, String target, String when, IOException problem) {
        return AuditEvent.about(time, SOURCE, CAPPED, target + ": its files could not be read " + when
                + ", so what the cage changed there is not told: " + problem.getMessage());
    }

    /**
     * The trail's lines for what changed in the mount seen at {@code target} in the cage between the snapshot
     * {@code before} it started and the one {@code after} it ended: each file added or changed with the SHA-256
     * of what the cage left, each removed, with the size it had, in path order, at most {@link Limits#lines()};
     * a last line when a walk, the hashing or the list was capped. None when nothing changed.
     */
    public static List<AuditEvent> lines(Instant time, String target, Snapshot before, Snapshot after, Limits limits) {
        List<AuditEvent> lines = new ArrayList<>();
        // Only the paths that changed are sorted: a workspace holds tens of thousands that did not.
        TreeSet<String> paths = new TreeSet<>();
        after.files().forEach((path, now) -> {
            FileState was = before.files().get(path);
            if (was == null || !was.sameAs(now)) {
                paths.add(path);
            }
        });
        before.files().keySet().stream().filter(path -> !after.files().containsKey(path)).forEach(paths::add);
        int changes = 0;
        int unhashed = 0;
        for (String path : paths) {
            FileState was = before.files().get(path);
            FileState now = after.files().get(path);
            String shown = path.isEmpty() ? target : target.replaceAll("/+$", "") + "/" + path;
            String decision;
            String reason;
            if (now == null) {
                decision = REMOVED;
                reason = shown + ": removed; it was " + was.size() + " bytes";
            } else {
                Content content = now.content() != null ? now.content() : new Content(now.size(), null);
                unhashed += content.sha256() == null ? 1 : 0;
                decision = was == null ? ADDED : CHANGED;
                reason = shown + ": " + content.described() + (was == null ? "" : "; it was " + was.size() + " bytes");
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
        if (unhashed > 0) {
            caps.add(unhashed + " changed files past the " + limits.files() + " files or " + Sizes.format(limits.bytes())
                    + " a snapshot hashes were not hashed: only their size is told");
        }
        if (before.capped() || after.capped()) {
            caps.add("the folder holds more than the " + limits.names() + " names a snapshot looks at: only the files "
                    + "seen " + (before.capped() ? "before the cage started" : "")
                    + (before.capped() && after.capped() ? " and " : "") + (after.capped() ? "after it ended" : "")
                    + " were compared, the first in path order; a file beyond them may have changed unseen");
        }
        if (!caps.isEmpty()) {
            lines.add(AuditEvent.about(time, SOURCE, CAPPED, target + ": " + String.join("; ", caps)));
        }
        return lines;
    }
}
