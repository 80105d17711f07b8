package dev.claudecage.workspace;

import dev.claudecage.CageException;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.host.UntrustedText;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the work tree of a {@code --clone} copy holds, read by the host as root through
 * {@link UntrustedDirectory}: every name is opened beneath the copy without following a link, so
 * a link the agent planted (or swaps in while the walk runs) is recorded as a link, never read
 * through. Regular files become git blobs (their ids computed here, as git computes them), links
 * become link entries with their target's bytes. Everything else is left out and named: anything
 * called {@code .git} (the copy's own repository, and names git keeps for itself), names that are
 * not UTF-8, files larger than {@link #MAX_FILE_BYTES}, FIFOs, sockets and devices. Empty folders
 * are not recorded (git keeps none). The walk is bounded in entries, depth and bytes.
 */
final class CopySnapshot {

    static final String FILE = "100644";
    static final String EXECUTABLE = "100755";
    static final String SYMLINK = IncomingChanges.SYMLINK;
    static final int MAX_FILE_BYTES = 64 * 1024 * 1024;
    static final long MAX_TOTAL_BYTES = 4L * 1024 * 1024 * 1024;
    static final int MAX_ENTRIES = 200_000;
    static final int MAX_DEPTH = 256;
    static final int MAX_LINK_BYTES = 4096;

    /** One recorded path: its git mode and the id of its blob (a link's blob is its target). */
    record Entry(String mode, String id) {
    }

    /**
     * The copy's state: entries by path (sorted, as git sorts them for a tree it is given whole),
     * the folders seen, and what was left out, each as "path: why" with the path as the cage wrote it.
     */
    record Tree(SortedMap<String, Entry> entries, SortedSet<String> folders, List<String> leftOut) {
        Tree {
            entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
            folders = Collections.unmodifiableSortedSet(new TreeSet<>(folders));
            leftOut = List.copyOf(leftOut);
        }
    }

    /** Where the content of each blob goes, when the caller wants it (a checkpoint's stream to git). */
    @FunctionalInterface
    interface Blobs {
        Blobs NONE = (id, content) -> {
        };

        void add(String id, byte[] content) throws IOException;
    }

    private final UntrustedDirectory copy;
    private final Blobs blobs;
    private final SortedMap<String, Entry> entries = new TreeMap<>();
    private final SortedSet<String> folders = new TreeSet<>();
    private final List<String> leftOut = new ArrayList<>();
    private long totalBytes;

    private CopySnapshot(UntrustedDirectory copy, Blobs blobs) {
        this.copy = copy;
        this.blobs = blobs;
    }

    /** Reads the whole work tree below {@code copy}, giving each file's content to {@code blobs}. */
    static Tree take(UntrustedDirectory copy, Blobs blobs) throws IOException {
        CopySnapshot walk = new CopySnapshot(copy, blobs);
        walk.folder(".", 0);
        return new Tree(walk.entries, walk.folders, walk.leftOut);
    }

    private void folder(String relative, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new CageException("the copy's folders are nested deeper than " + MAX_DEPTH + " levels at "
                    + UntrustedText.escape(relative), "have the agent remove that folder, then take the checkpoint again");
        }
        List<String> names = new ArrayList<>(copy.list(relative));
        Collections.sort(names);
        for (String name : names) {
            String path = relative.equals(".") ? name : relative + "/" + name;
            Optional<String> refusal = refusal(name);
            if (refusal.isPresent()) {
                leftOut.add(path + ": " + refusal.get());
                continue;
            }
            if (entries.size() + folders.size() >= MAX_ENTRIES) {
                throw new CageException("the copy holds more than " + MAX_ENTRIES + " files and folders",
                        "have the agent remove what it does not need (build output, downloaded packages)");
            }
            Optional<UntrustedDirectory.Entry> entry = copy.stat(path);
            if (entry.isEmpty()) {
                continue;
            }
            switch (entry.get().kind()) {
                case DIRECTORY -> {
                    folders.add(path);
                    folder(path, depth + 1);
                }
                case SYMLINK -> entries.put(path, blob(SYMLINK, copy.readLink(path, MAX_LINK_BYTES)));
                case FILE -> file(path, entry.get());
                default -> leftOut.add(path + ": not a file, folder or link");
            }
        }
    }

    private void file(String path, UntrustedDirectory.Entry entry) throws IOException {
        if (entry.size() > MAX_FILE_BYTES) {
            leftOut.add(path + ": larger than " + MAX_FILE_BYTES / (1024 * 1024) + " MiB");
            return;
        }
        byte[] content;
        try (InputStream in = copy.openRead(path)) {
            // Bounded again while reading: the file may have grown since it was looked at.
            content = in.readNBytes(MAX_FILE_BYTES + 1);
        }
        if (content.length > MAX_FILE_BYTES) {
            leftOut.add(path + ": larger than " + MAX_FILE_BYTES / (1024 * 1024) + " MiB");
            return;
        }
        totalBytes += content.length;
        if (totalBytes > MAX_TOTAL_BYTES) {
            throw new CageException("the copy's files add up to more than " + MAX_TOTAL_BYTES / (1024 * 1024 * 1024)
                    + " GiB", "have the agent remove what it does not need (build output, downloaded packages)");
        }
        entries.put(path, blob((entry.permissions() & 0100) != 0 ? EXECUTABLE : FILE, content));
    }

    private Entry blob(String mode, byte[] content) throws IOException {
        String id = blobId(content);
        blobs.add(id, content);
        return new Entry(mode, id);
    }

    /** Why a name is not recorded, if it is not. */
    static Optional<String> refusal(String name) {
        if (IncomingChanges.fold(name).equals(".git")) {
            return Optional.of("a name git keeps for itself (the copy's own repository is not part of a checkpoint)");
        }
        if (name.indexOf('\ufffd') >= 0) {
            return Optional.of("a name that is not UTF-8");
        }
        return Optional.empty();
    }

    /** The id git gives a blob with {@code content}: SHA-1 over "blob SIZE\0" and the bytes. */
    static String blobId(byte[] content) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(sha1.digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-1", e);
        }
    }

    /** How many paths differ between {@code before} and {@code after}: added, changed or removed. */
    static int changes(Map<String, Entry> before, Map<String, Entry> after) {
        int changed = 0;
        for (Map.Entry<String, Entry> entry : after.entrySet()) {
            if (!entry.getValue().equals(before.get(entry.getKey()))) {
                changed++;
            }
        }
        for (String path : before.keySet()) {
            if (!after.containsKey(path)) {
                changed++;
            }
        }
        return changed;
    }
}
