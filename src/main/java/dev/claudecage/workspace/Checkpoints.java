package dev.claudecage.workspace;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.host.UntrustedText;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Checkpoints of a {@code --clone} copy's work tree: each one the copy's files as they were
 * (tracked or not, staged or not, ignored ones too: the walk knows no .gitignore), kept as a
 * commit in {@code checkpoints.git} beside the copy, a repository of the host's that no cage
 * mounts and that has no alternates (review.git's name the copy's objects, which the agent could
 * delete or rewrite). The copy is read and written only through {@link UntrustedDirectory} as
 * root (no link followed, see {@link CopySnapshot}), and git never runs in the copy, so its
 * .git (config, hooks, index, refs and history) is neither read nor changed: a checkpoint is the
 * work tree, and a rollback restores the work tree and leaves the copy's .git as the agent left
 * it. git writes the commits from a stream this class builds ({@code git fast-import}), in
 * checkpoints.git only.
 *
 * <p>Checkpoint N is {@code refs/checkpoints/N}, a commit whose parent is checkpoint N-1 and
 * whose message ends with the number of paths it changed.
 */
public final class Checkpoints {

    static final String REPOSITORY = "checkpoints.git";
    private static final String REFS = "refs/checkpoints/";
    private static final String NOW_REF = "refs/claude-cage/now";
    private static final String FILES_CHANGED = "\n\nFiles-changed: ";
    private static final int MAX_MESSAGE_CHARS = 500;
    private static final Duration LOCK_TIMEOUT = Duration.ofMinutes(10);
    private static final int FOLDER_MODE = 0755;

    /** One checkpoint, as {@code checkpoints} lists it. */
    public record Checkpoint(int id, String commit, Instant time, String message, int filesChanged) {
    }

    /**
     * What {@link #take} did: the checkpoint it made (none when nothing changed and it was asked
     * to skip then), and the paths it left out, each "path: why" as the cage wrote it.
     */
    public record Taken(Optional<Checkpoint> checkpoint, List<String> leftOut) {
    }

    /** What {@link #rollback} did; {@code saved} is the checkpoint it took first, when the copy had changed. */
    public record RolledBack(Checkpoint to, Optional<Checkpoint> saved, int written, int removed, List<String> leftOut) {
    }

    private final Path root;
    private final HostGit git;

    Checkpoints(Path root, HostGit git) {
        this.root = root;
        this.git = git;
    }

    /**
     * Records the copy's work tree as the next checkpoint; with {@code onlyIfChanged}, not when it
     * is the same as the last one's.
     */
    @SuppressWarnings("try") // the lock is held for the whole block
    public Taken take(String message, boolean onlyIfChanged) {
        requirePlainMessage(message);
        try (FileLock lock = lock()) {
            Snapshot snapshot = snapshot(message, onlyIfChanged);
            return new Taken(snapshot.checkpoint(), snapshot.tree().leftOut());
        }
    }

    /** The checkpoints, oldest first. */
    public List<Checkpoint> list() {
        if (!Files.isDirectory(root.resolve(REPOSITORY))) {
            return List.of();
        }
        return parseList(git.run("--git-dir=" + REPOSITORY, "for-each-ref",
                "--format=%(refname)%00%(objectname)%00%(committerdate:unix)%00%(contents)%00", REFS).stdout());
    }

    /**
     * Makes the copy's work tree checkpoint {@code id}'s again, while the cage may be running:
     * takes a checkpoint of the present state first (when it differs from the last), so that the
     * rollback itself can be undone, then removes, makes and writes what {@link RollbackPlan} says,
     * each step beneath the copy without following a link. Files are written whole and renamed into
     * place, as the repository's owner, so the cage reads the old content or the new.
     */
    @SuppressWarnings("try") // the lock is held for the whole block
    public RolledBack rollback(int id) {
        try (FileLock lock = lock()) {
            Checkpoint target = find(id);
            Snapshot now = snapshot("before rollback to checkpoint " + id, true);
            RollbackPlan plan = RollbackPlan.between(entries(target.commit()), now.tree());
            try (UntrustedDirectory copy = openCopy()) {
                for (String path : plan.removals()) {
                    copy.removeTree(path);
                }
                for (String folder : plan.folders()) {
                    Optional<UntrustedDirectory.Entry> there = copy.stat(folder);
                    if (there.isPresent() && there.get().kind() != UntrustedDirectory.Entry.Kind.DIRECTORY) {
                        copy.removeTree(folder);
                    }
                    if (there.isEmpty() || there.get().kind() != UntrustedDirectory.Entry.Kind.DIRECTORY) {
                        copy.createDirectory(folder, FOLDER_MODE);
                        copy.chown(folder, git.uid(), git.gid());
                    }
                }
                write(copy, plan.writes());
            } catch (IOException e) {
                throw new CageException("cannot restore the copy " + root.resolve(WorkspaceClone.COPY)
                        + " to checkpoint " + id + " (it is partly restored): " + UntrustedText.escape(e.getMessage()),
                        "stop the session (claude-cage stop) so that the agent changes nothing meanwhile, "
                                + "then roll back again");
            }
            return new RolledBack(target, now.checkpoint(), plan.writes().size(), plan.removals().size(),
                    now.tree().leftOut());
        }
    }

    /**
     * What changed in the copy's work tree since checkpoint {@code id}, as git prints it: the
     * copy's bytes, for the caller to escape.
     */
    @SuppressWarnings("try") // the lock is held for the whole block
    public String diffSince(int id, boolean statOnly) {
        try (FileLock lock = lock()) {
            Checkpoint since = find(id);
            SortedMap<String, CopySnapshot.Entry> before = entries(since.commit());
            Path stream = temporary("stream");
            try {
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(stream,
                        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
                    Set<String> known = ids(before);
                    CopySnapshot.Tree tree;
                    try (UntrustedDirectory copy = openCopy()) {
                        tree = CopySnapshot.take(copy, newBlobs(out, known));
                    }
                    writeCommit(out, NOW_REF, Instant.now(), "the copy now", null, tree.entries());
                }
                importStream(stream);
            } catch (IOException e) {
                throw cannotRead(e);
            } finally {
                delete(stream);
            }
            try {
                return "# changes in the copy since checkpoint " + id + " (" + since.time() + ")\n"
                        + git.run("--git-dir=" + REPOSITORY, "diff", "--no-ext-diff", "--no-textconv", "--no-renames",
                        statOnly ? "--stat" : "--patch", since.commit(), NOW_REF).stdout();
            } finally {
                git.runAllowingFailure("--git-dir=" + REPOSITORY, "update-ref", "-d", NOW_REF);
            }
        }
    }

    /** A checkpoint taken, or not, and the tree it was taken from. */
    private record Snapshot(Optional<Checkpoint> checkpoint, CopySnapshot.Tree tree) {
    }

    private Snapshot snapshot(String message, boolean onlyIfChanged) {
        if (!Files.isDirectory(root.resolve(REPOSITORY))) {
            git.run("init", "--quiet", "--bare", REPOSITORY);
        }
        List<Checkpoint> existing = list();
        Optional<Checkpoint> last = existing.isEmpty() ? Optional.empty() : Optional.of(existing.get(existing.size() - 1));
        SortedMap<String, CopySnapshot.Entry> before = last.isPresent() ? entries(last.get().commit()) : new TreeMap<>();
        int id = last.map(checkpoint -> checkpoint.id() + 1).orElse(1);
        Path stream = temporary("stream");
        try {
            CopySnapshot.Tree tree;
            int changed;
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(stream, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE))) {
                try (UntrustedDirectory copy = openCopy()) {
                    tree = CopySnapshot.take(copy, newBlobs(out, ids(before)));
                }
                changed = CopySnapshot.changes(before, tree.entries());
                if (onlyIfChanged && last.isPresent() && changed == 0) {
                    return new Snapshot(Optional.empty(), tree);
                }
                writeCommit(out, REFS + id, Instant.now(), message + FILES_CHANGED + changed + "\n",
                        last.map(Checkpoint::commit).orElse(null), tree.entries());
            }
            importStream(stream);
            return new Snapshot(Optional.of(find(id)), tree);
        } catch (IOException e) {
            throw cannotRead(e);
        } finally {
            delete(stream);
        }
    }

    /** Blobs not in {@code known} go into the stream, each once. */
    private static CopySnapshot.Blobs newBlobs(OutputStream out, Set<String> known) {
        Set<String> sent = new HashSet<>(known);
        return (blobId, content) -> {
            if (sent.add(blobId)) {
                writeBlob(out, content);
            }
        };
    }

    private void importStream(Path stream) {
        Path output = temporary("out");
        try {
            git.runStreaming(stream, output, "--git-dir=" + REPOSITORY, "fast-import", "--quiet", "--done");
        } finally {
            delete(output);
        }
    }

    // ---- the stream git fast-import reads

    static void writeBlob(OutputStream out, byte[] content) throws IOException {
        out.write(("blob\ndata " + content.length + "\n").getBytes(StandardCharsets.US_ASCII));
        out.write(content);
        out.write('\n');
    }

    /**
     * A commit of {@code entries} (each blob in the repository or earlier in the stream) on
     * {@code ref}, the whole tree given (deleteall), then the end of the stream.
     */
    static void writeCommit(OutputStream out, String ref, Instant time, String message, String parent,
                            SortedMap<String, CopySnapshot.Entry> entries) throws IOException {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        out.write(("commit " + ref + "\ncommitter claude-cage <claude-cage@localhost> " + time.getEpochSecond()
                + " +0000\ndata " + text.length + "\n").getBytes(StandardCharsets.US_ASCII));
        out.write(text);
        out.write('\n');
        if (parent != null) {
            out.write(("from " + parent + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        out.write("deleteall\n".getBytes(StandardCharsets.US_ASCII));
        for (Map.Entry<String, CopySnapshot.Entry> entry : entries.entrySet()) {
            out.write(("M " + entry.getValue().mode() + " " + entry.getValue().id() + " ").getBytes(StandardCharsets.US_ASCII));
            out.write(quoted(entry.getKey()));
            out.write('\n');
        }
        out.write("\ndone\n".getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * A path as fast-import reads a quoted one (C style): quotes and backslashes escaped, every
     * byte outside printable ASCII in octal, so that no name the cage chose ends a line or a field.
     */
    static byte[] quoted(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write('"');
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c == '"' || c == '\\') {
                out.write('\\');
                out.write(c);
            } else if (c < 0x20 || c >= 0x7f) {
                out.writeBytes(String.format("\\%03o", c).getBytes(StandardCharsets.US_ASCII));
            } else {
                out.write(c);
            }
        }
        out.write('"');
        return out.toByteArray();
    }

    // ---- reading checkpoints.git

    /** for-each-ref's records: name, commit, time, message, each ended by NUL, a newline between records. */
    static List<Checkpoint> parseList(String output) {
        String[] fields = output.split("\0", -1);
        List<Checkpoint> checkpoints = new ArrayList<>();
        for (int i = 0; i + 3 < fields.length; i += 4) {
            String name = fields[i].strip();
            if (!name.startsWith(REFS) || !name.substring(REFS.length()).matches("[1-9][0-9]{0,8}")) {
                continue;
            }
            String contents = fields[i + 3];
            int trailer = contents.lastIndexOf(FILES_CHANGED);
            String message = trailer < 0 ? contents.strip() : contents.substring(0, trailer);
            int files = trailer < 0 ? 0 : Integer.parseInt(contents.substring(trailer + FILES_CHANGED.length()).strip());
            checkpoints.add(new Checkpoint(Integer.parseInt(name.substring(REFS.length())), fields[i + 1],
                    Instant.ofEpochSecond(Long.parseLong(fields[i + 2])), message, files));
        }
        checkpoints.sort(Comparator.comparingInt(Checkpoint::id));
        return checkpoints;
    }

    private Checkpoint find(int id) {
        List<Checkpoint> checkpoints = list();
        return checkpoints.stream().filter(checkpoint -> checkpoint.id() == id).findFirst()
                .orElseThrow(() -> new UserInputException("the session has no checkpoint " + id
                        + (checkpoints.isEmpty() ? " (it has none yet)" : " (it has " + checkpoints.get(0).id() + " to "
                        + checkpoints.get(checkpoints.size() - 1).id() + ")"),
                        "list them with: claude-cage checkpoints NAME"));
    }

    /** The entries of a checkpoint's tree, from {@code ls-tree -r -z}: "MODE TYPE ID\tPATH", NUL-ended. */
    private SortedMap<String, CopySnapshot.Entry> entries(String commit) {
        return parseTree(git.run("--git-dir=" + REPOSITORY, "ls-tree", "-r", "-z", "--full-tree", commit).stdout());
    }

    static SortedMap<String, CopySnapshot.Entry> parseTree(String output) {
        SortedMap<String, CopySnapshot.Entry> entries = new TreeMap<>();
        for (String record : output.split("\0")) {
            if (record.isEmpty()) {
                continue;
            }
            int tab = record.indexOf('\t');
            String[] head = record.substring(0, tab).split(" ");
            entries.put(record.substring(tab + 1), new CopySnapshot.Entry(head[0], head[2]));
        }
        return entries;
    }

    private static Set<String> ids(Map<String, CopySnapshot.Entry> entries) {
        Set<String> ids = new HashSet<>();
        entries.values().forEach(entry -> ids.add(entry.id()));
        return ids;
    }

    /**
     * Writes each entry from its blob, read in one {@code git cat-file --batch} (its output a
     * temporary file, read in order): files replaced whole, links made anew; whatever stands at the
     * name (a link, a folder) is removed first, not followed.
     */
    private void write(UntrustedDirectory copy, SortedMap<String, CopySnapshot.Entry> writes) throws IOException {
        if (writes.isEmpty()) {
            return;
        }
        Path ids = temporary("ids");
        Path blobs = temporary("blobs");
        try {
            StringBuilder list = new StringBuilder();
            writes.values().forEach(entry -> list.append(entry.id()).append('\n'));
            Files.writeString(ids, list);
            git.runStreaming(ids, blobs, "--git-dir=" + REPOSITORY, "cat-file", "--batch");
            try (InputStream in = new BufferedInputStream(Files.newInputStream(blobs))) {
                for (Map.Entry<String, CopySnapshot.Entry> write : writes.entrySet()) {
                    byte[] content = nextBlob(in, write.getValue().id());
                    String path = write.getKey();
                    Optional<UntrustedDirectory.Entry> there = copy.stat(path);
                    if (write.getValue().mode().equals(CopySnapshot.SYMLINK)) {
                        if (there.isPresent()) {
                            copy.removeTree(path);
                        }
                        copy.createSymlink(path, content);
                        copy.chown(path, git.uid(), git.gid());
                    } else {
                        if (there.isPresent() && there.get().kind() == UntrustedDirectory.Entry.Kind.DIRECTORY) {
                            copy.removeTree(path);
                        }
                        copy.replaceFile(path, content, write.getValue().mode().equals(CopySnapshot.EXECUTABLE)
                                ? 0755 : 0644, git.uid(), git.gid());
                    }
                }
            }
        } finally {
            delete(ids);
            delete(blobs);
        }
    }

    /** The next object of cat-file --batch's output: "ID blob SIZE\n", the bytes, "\n". */
    private static byte[] nextBlob(InputStream in, String id) throws IOException {
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("git cat-file ended before the blob " + id);
            }
            header.write(c);
        }
        String[] fields = header.toString(StandardCharsets.US_ASCII).split(" ");
        if (fields.length != 3 || !fields[0].equals(id) || !fields[1].equals("blob")) {
            throw new IOException("git cat-file gave '" + UntrustedText.escape(header.toString(StandardCharsets.US_ASCII))
                    + "' for the blob " + id);
        }
        byte[] content = in.readNBytes(Integer.parseInt(fields[2]));
        if (content.length != Integer.parseInt(fields[2]) || in.read() != '\n') {
            throw new EOFException("git cat-file ended inside the blob " + id);
        }
        return content;
    }

    // ---- small helpers

    private UntrustedDirectory openCopy() throws IOException {
        return UntrustedDirectory.open(root.resolve(WorkspaceClone.COPY));
    }

    private FileLock lock() {
        return FileLock.acquire(root.resolve("checkpoints.lock"), LOCK_TIMEOUT, "the checkpoints of "
                + root.resolve(WorkspaceClone.COPY));
    }

    /** A file of this class's beside the copy (never in it), absent when made; the lock keeps the name ours. */
    private Path temporary(String what) {
        Path file = root.resolve("checkpoint-" + what + ".tmp");
        delete(file);
        return file;
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            System.err.println("claude-cage: could not remove " + file + ": " + e.getMessage());
        }
    }

    private CageException cannotRead(IOException e) {
        return new CageException("cannot read the copy " + root.resolve(WorkspaceClone.COPY) + ": "
                + UntrustedText.escape(e.getMessage()), "a name the cage changed while it was read makes this "
                + "fail; try again (a link in the way is never followed)");
    }

    private static void requirePlainMessage(String message) {
        if (message.length() > MAX_MESSAGE_CHARS || message.codePoints().anyMatch(Character::isISOControl)) {
            throw new UserInputException("a checkpoint's message is one line of at most " + MAX_MESSAGE_CHARS
                    + " characters without control characters", "shorten it");
        }
    }
}
