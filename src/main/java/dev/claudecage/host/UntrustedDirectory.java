package dev.claudecage.host;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * A folder that a cage can write, as the host side must act in it. The launcher runs as root and
 * later reads, writes, creates and removes files there, so every name below the folder is
 * resolved beneath one descriptor opened at the start, with {@code openat2} and
 * {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS}: no symbolic link is
 * followed, not even as the last name, and no {@code ..} leads out. What a file is (regular, one
 * link, its owner) is checked on the opened descriptor, never on the name again, so a name the
 * cage swaps between the check and the use changes nothing.
 * <p>
 * The folder's own path is trusted (the user named it, or it is the launcher's): it is opened
 * with {@code O_NOFOLLOW}, so its last name must not be a link either. Errors are the
 * {@link java.nio.file} exceptions callers already handle; a link in the way is a
 * {@link FileSystemException} that says so.
 */
public final class UntrustedDirectory implements AutoCloseable {

    private static final long RESOLVE = LinuxSyscalls.RESOLVE_BENEATH | LinuxSyscalls.RESOLVE_NO_SYMLINKS
            | LinuxSyscalls.RESOLVE_NO_MAGICLINKS;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    /**
     * What one name below the folder is, as lstat sees it.
     *
     * @param modified its mtime, which its owner can set to anything
     * @param changed  its ctime, which the kernel sets to the present at every change of its content or metadata
     */
    public record Entry(Kind kind, int uid, int gid, int permissions, int links, long size, long inode,
                        Instant modified, Instant changed) {
        public enum Kind { FILE, DIRECTORY, SYMLINK, OTHER }
    }

    private final Path path;
    private int fd;

    private UntrustedDirectory(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * Where a file the user named is to be opened: beneath {@code folder}, as {@code relative}.
     *
     * @param cageWritable whether {@code folder} is one a cage writes (so that the user can be told)
     */
    public record Placement(Path folder, String relative, boolean cageWritable) {
    }

    /** How many symbolic links {@link #place} follows on the host's part of a path, as the kernel's limit. */
    private static final int MAX_LINKS = 40;

    /**
     * Where to open {@code file}, a path the user named that may lead into a folder a cage
     * writes: the path is followed as the host's (its links included) up to the first folder
     * that is one of {@code cageWritableFolders} (by identity, so a link of the user's that leads
     * there counts), and the rest is left to be resolved beneath that folder, where no link is
     * followed. When the path enters no such folder: beneath the file's own folder, where the
     * file's name is still not followed.
     */
    public static Placement place(Path file, Collection<Path> cageWritableFolders) throws IOException {
        Set<Object> writable = new HashSet<>();
        for (Path folder : cageWritableFolders) {
            try {
                writable.add(Files.readAttributes(folder, BasicFileAttributes.class).fileKey());
            } catch (NoSuchFileException gone) {
                // Nothing of the path can lie in it.
            }
        }
        Path absolute = file.toAbsolutePath().normalize();
        if (absolute.getParent() == null) {
            throw new FileSystemException(absolute.toString(), null, "not a file's path");
        }
        Deque<String> rest = new ArrayDeque<>();
        absolute.getParent().forEach(name -> rest.add(name.toString()));
        Path current = absolute.getRoot();
        int links = 0;
        while (true) {
            if (writable.contains(Files.readAttributes(current, BasicFileAttributes.class).fileKey())) {
                return new Placement(current, relative(rest, absolute), true);
            }
            if (rest.isEmpty()) {
                return new Placement(current, relative(rest, absolute), false);
            }
            String name = rest.peekFirst();
            if (name.equals(".")) {
                rest.removeFirst();
                continue;
            }
            if (name.equals("..")) {
                rest.removeFirst();
                current = current.getParent() == null ? current : current.getParent();
                continue;
            }
            Path next = current.resolve(name);
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(next, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException missing) {
                return new Placement(current, relative(rest, absolute), false);
            }
            rest.removeFirst();
            if (attributes.isSymbolicLink()) {
                if (++links > MAX_LINKS) {
                    throw new FileSystemException(absolute.toString(), null, "too many levels of symbolic links");
                }
                Path target = Files.readSymbolicLink(next);
                List<String> names = new ArrayList<>();
                target.forEach(part -> names.add(part.toString()));
                for (int i = names.size() - 1; i >= 0; i--) {
                    rest.addFirst(names.get(i));
                }
                if (target.isAbsolute()) {
                    current = target.getRoot();
                }
                continue;
            }
            if (!attributes.isDirectory()) {
                return new Placement(current, name + "/" + relative(rest, absolute), false);
            }
            current = next;
        }
    }

    private static String relative(Deque<String> rest, Path file) {
        return rest.isEmpty() ? file.getFileName().toString() : String.join("/", rest) + "/" + file.getFileName();
    }

    /** Opens {@code directory}, whose own path is trusted, to act below it. */
    public static UntrustedDirectory open(Path directory) throws IOException {
        Path absolute = directory.toAbsolutePath().normalize();
        int fd = openat2(LinuxSyscalls.AT_FDCWD, absolute.toString(),
                LinuxSyscalls.O_PATH | LinuxSyscalls.O_DIRECTORY | LinuxSyscalls.O_NOFOLLOW | LinuxSyscalls.O_CLOEXEC,
                0, 0, absolute);
        return new UntrustedDirectory(absolute, fd);
    }

    /** The folder's path, for messages. */
    public Path path() {
        return path;
    }

    /** What the folder itself is. */
    public Entry stat() throws IOException {
        if (fd < 0) {
            throw new IllegalStateException("the folder " + path + " is closed");
        }
        return fstat(fd, ".");
    }

    /** What {@code relative} is, without following it, or empty when nothing has that name. */
    public Optional<Entry> stat(String relative) throws IOException {
        return inParent(relative, (parent, name) -> {
            byte[] statx = new byte[LinuxSyscalls.STATX_SIZE];
            if (LinuxSyscalls.get().statx(parent, name, LinuxSyscalls.AT_SYMLINK_NOFOLLOW,
                    LinuxSyscalls.STATX_BASIC_STATS, statx) < 0) {
                if (Native.getLastError() == LinuxSyscalls.ENOENT) {
                    return Optional.empty();
                }
                throw failure("look at", relative);
            }
            return Optional.of(entry(statx));
        });
    }

    /** Makes the folder {@code relative}; its parent must exist, the name must not. */
    public void createDirectory(String relative, int mode) throws IOException {
        inParent(relative, (parent, name) -> checked(LinuxSyscalls.get().mkdirat(parent, name, mode), "make the folder",
                relative));
    }

    /**
     * Makes the folder {@code relative} and each missing folder on the way, with {@code mode};
     * a name on the way that is there but not a folder (a link included) is an error.
     */
    public void createDirectories(String relative, int mode) throws IOException {
        List<String> names = names(relative);
        for (int i = 1; i <= names.size(); i++) {
            String prefix = String.join("/", names.subList(0, i));
            Optional<Entry> entry = stat(prefix);
            if (entry.isEmpty()) {
                try {
                    createDirectory(prefix, mode);
                    continue;
                } catch (FileAlreadyExistsException raced) {
                    entry = stat(prefix);
                }
            }
            if (entry.isEmpty() || entry.get().kind() != Entry.Kind.DIRECTORY) {
                throw new FileSystemException(path.resolve(prefix).toString(), null, "is not a folder"
                        + (entry.isPresent() && entry.get().kind() == Entry.Kind.SYMLINK
                        ? " but a symbolic link, and the host side follows no link in a folder the cage can write" : ""));
            }
        }
    }

    /** Writes a new file {@code relative} with {@code content}; fails if the name exists, as anything. */
    public void createFile(String relative, byte[] content, int mode) throws IOException {
        int file = openat2(fd, String.join("/", names(relative)), LinuxSyscalls.O_WRONLY | LinuxSyscalls.O_CREAT
                | LinuxSyscalls.O_EXCL | LinuxSyscalls.O_NOFOLLOW | LinuxSyscalls.O_CLOEXEC, mode, RESOLVE,
                path.resolve(relative));
        try (OutputStream out = new DescriptorOutputStream(file, path.resolve(relative))) {
            out.write(content);
            fchmod(file, mode, relative);
        }
    }

    /**
     * Opens {@code relative} for appending, creating it with {@code mode} when missing. Refused
     * unless it is a regular file with one name: the cage could have made it a FIFO (an open
     * that blocks), a device, or a hard link to a file it wants the host to write.
     */
    public OutputStream openAppend(String relative, int mode) throws IOException {
        int file = openat2(fd, String.join("/", names(relative)), LinuxSyscalls.O_WRONLY | LinuxSyscalls.O_APPEND
                | LinuxSyscalls.O_CREAT | LinuxSyscalls.O_NOFOLLOW | LinuxSyscalls.O_NONBLOCK | LinuxSyscalls.O_NOCTTY
                | LinuxSyscalls.O_CLOEXEC, mode, RESOLVE, path.resolve(relative));
        try {
            requireSingleRegularFile(file, relative);
            return new DescriptorOutputStream(file, path.resolve(relative));
        } catch (IOException | RuntimeException e) {
            LinuxSyscalls.get().close(file);
            throw e;
        }
    }

    /**
     * Opens the regular file {@code relative} for reading, as a stream: for a file too long to read
     * at once, such as an audit log. Refused unless it is a regular file (a FIFO would block).
     */
    public InputStream openRead(String relative) throws IOException {
        int file = openat2(fd, String.join("/", names(relative)), LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_NOFOLLOW
                | LinuxSyscalls.O_NONBLOCK | LinuxSyscalls.O_NOCTTY | LinuxSyscalls.O_CLOEXEC, 0, RESOLVE,
                path.resolve(relative));
        try {
            if (fstat(file, relative).kind() != Entry.Kind.FILE) {
                throw new FileSystemException(path.resolve(relative).toString(), null, "not a regular file");
            }
            return new DescriptorInputStream(file, path.resolve(relative));
        } catch (IOException | RuntimeException e) {
            LinuxSyscalls.get().close(file);
            throw e;
        }
    }

    /**
     * Reads the regular file {@code relative}, at most {@code limit} bytes; a longer one is an
     * error, not a silent cut.
     */
    public byte[] readFile(String relative, int limit) throws IOException {
        int file = openat2(fd, String.join("/", names(relative)), LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_NOFOLLOW
                | LinuxSyscalls.O_NONBLOCK | LinuxSyscalls.O_NOCTTY | LinuxSyscalls.O_CLOEXEC, 0, RESOLVE,
                path.resolve(relative));
        try {
            Entry entry = fstat(file, relative);
            if (entry.kind() != Entry.Kind.FILE) {
                throw new FileSystemException(path.resolve(relative).toString(), null, "not a regular file");
            }
            byte[] buffer = new byte[limit + 1];
            int length = 0;
            while (length < buffer.length) {
                byte[] chunk = length == 0 ? buffer : new byte[buffer.length - length];
                long read = LinuxSyscalls.get().read(file, chunk, chunk.length);
                if (read < 0) {
                    if (Native.getLastError() == LinuxSyscalls.EINTR) {
                        continue;
                    }
                    throw failure("read", relative);
                }
                if (read == 0) {
                    break;
                }
                if (chunk != buffer) {
                    System.arraycopy(chunk, 0, buffer, length, (int) read);
                }
                length += (int) read;
            }
            if (length > limit) {
                throw new FileSystemException(path.resolve(relative).toString(), null,
                        "larger than the " + limit + " bytes the host side reads of a file the cage can write");
            }
            return Arrays.copyOf(buffer, length);
        } finally {
            LinuxSyscalls.get().close(file);
        }
    }

    /**
     * Replaces {@code relative} with a file holding {@code content}, owned by {@code uid}:{@code gid}
     * with {@code mode}, in one rename: a reader sees the old file or the new one, and whatever
     * the name was before (a link included) is replaced, not followed.
     */
    public void replaceFile(String relative, byte[] content, int mode, int uid, int gid) throws IOException {
        List<String> names = names(relative);
        String temporary = (names.size() > 1 ? String.join("/", names.subList(0, names.size() - 1)) + "/" : "")
                + "." + last(names) + ".claude-cage-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        createFile(temporary, content, mode);
        try {
            chown(temporary, uid, gid);
            int parent = openParent(names);
            try {
                if (LinuxSyscalls.get().renameat(parent, encode(last(names(temporary))), parent,
                        encode(last(names))) < 0) {
                    throw failure("replace", relative);
                }
            } finally {
                LinuxSyscalls.get().close(parent);
            }
        } catch (IOException | RuntimeException e) {
            try {
                removeFile(temporary);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /**
     * The names in the folder {@code relative} ("." for this folder itself), opened beneath this
     * one without following a link, without "." and "..". Names are decoded as Java's file API
     * decodes them; one that is not valid text comes back with U+FFFD in it, which names no file.
     */
    public List<String> list(String relative) throws IOException {
        String beneath = relative.equals(".") ? "." : String.join("/", names(relative));
        int folder = openat2(fd, beneath, LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_DIRECTORY | LinuxSyscalls.O_NOFOLLOW
                | LinuxSyscalls.O_CLOEXEC, 0, RESOLVE, path.resolve(relative));
        try {
            return list(folder, path.resolve(relative), new byte[LIST_BUFFER]).stream().map(listed -> decode(listed.name())).toList();
        } finally {
            LinuxSyscalls.get().close(folder);
        }
    }

    /** Where the symbolic link {@code relative} points, as its bytes; a target longer than {@code limit} is an error. */
    public byte[] readLink(String relative, int limit) throws IOException {
        return inParent(relative, (parent, name) -> {
            byte[] target = new byte[limit + 1];
            long length = LinuxSyscalls.get().readlinkat(parent, name, target, target.length);
            if (length < 0) {
                throw failure("read the link", relative);
            }
            if (length > limit) {
                throw new FileSystemException(path.resolve(relative).toString(), null,
                        "a link target longer than the " + limit + " bytes the host side reads");
            }
            return Arrays.copyOf(target, (int) length);
        });
    }

    /** Makes the symbolic link {@code relative} pointing at {@code target}, which nothing here follows. */
    public void createSymlink(String relative, byte[] target) throws IOException {
        inParent(relative, (parent, name) -> checked(LinuxSyscalls.get().symlinkat(terminated(target), parent, name),
                "make the link", relative));
    }

    /** Gives {@code relative} (never what it points to) to {@code uid}:{@code gid}. */
    public void chown(String relative, int uid, int gid) throws IOException {
        inParent(relative, (parent, name) -> checked(LinuxSyscalls.get().fchownat(parent, name, uid, gid,
                LinuxSyscalls.AT_SYMLINK_NOFOLLOW), "change the owner of", relative));
    }

    /** Removes the name {@code relative} if it is not a folder (a link is removed, not followed). */
    public void removeFile(String relative) throws IOException {
        unlink(relative, 0);
    }

    /** Removes the empty folder {@code relative}. */
    public void removeEmptyDirectory(String relative) throws IOException {
        unlink(relative, LinuxSyscalls.AT_REMOVEDIR);
    }

    /**
     * Removes {@code relative} and, when it is a folder, everything in it, following no link and
     * crossing no mount point: a mount left behind would have what it shows removed. Each folder
     * is opened beneath the one holding it and emptied through that descriptor, so a name the
     * cage swaps on the way makes the removal fail; it never leads out. Nothing by that name is
     * no error. Names are taken as the kernel gives them, bytes that need not be valid text.
     */
    public void removeTree(String relative) throws IOException {
        List<String> names = names(relative);
        int parent = openParent(names);
        try {
            removeTree(parent, last(names).getBytes(NAMES), path.resolve(relative));
        } finally {
            LinuxSyscalls.get().close(parent);
        }
    }

    /**
     * Depth first without recursion, one open folder per level: a tree as deep as the cage cares
     * to make costs descriptors (the JVM raises their limit to the hard one), not stack.
     */
    private static void removeTree(int parent, byte[] name, Path shown) throws IOException {
        Optional<Entry> top = statAt(parent, name, () -> shown);
        if (top.isEmpty()) {
            return;
        }
        if (top.get().kind() != Entry.Kind.DIRECTORY) {
            unlinkAt(parent, name, 0, shown);
            return;
        }
        Deque<Level> levels = new ArrayDeque<>();
        byte[] buffer = new byte[LIST_BUFFER];
        try {
            levels.push(Level.open(parent, name, shown, buffer));
            while (!levels.isEmpty()) {
                Level level = levels.peek();
                if (level.pending.isEmpty()) {
                    levels.pop().close();
                    unlinkAt(level.parent, level.name, LinuxSyscalls.AT_REMOVEDIR, level.shown);
                    continue;
                }
                byte[] child = level.pending.remove(level.pending.size() - 1).name();
                Path childShown = level.shown.resolve(decode(child));
                Optional<Entry> entry = statAt(level.fd, child, () -> childShown);
                if (entry.isEmpty()) {
                    continue;
                }
                if (entry.get().kind() == Entry.Kind.DIRECTORY) {
                    levels.push(Level.open(level.fd, child, childShown, buffer));
                } else {
                    unlinkAt(level.fd, child, 0, childShown);
                }
            }
        } finally {
            levels.forEach(Level::close);
        }
    }

    /** What {@link #walkFiles} does with each regular file it meets. */
    @FunctionalInterface
    public interface FileVisitor {
        /**
         * @param relative its path below the folder ('/' between names)
         * @param entry    what lstat saw, no file opened
         * @param content  opens it, for a visitor that reads it
         * @return whether to go on
         */
        boolean visit(String relative, Entry entry, FileContent content) throws IOException;
    }

    /** A file met on a walk, opened only when asked: a walk that only looks at names and times reads nothing. */
    @FunctionalInterface
    public interface FileContent {
        /**
         * Its bytes, opened beneath its folder (the caller closes the stream), or nothing when the name is
         * no longer a regular file: the name swapped for a link or anything else is not read.
         */
        Optional<InputStream> open() throws IOException;
    }

    /**
     * Visits every regular file beneath this folder, depth first and in byte order of the names, each
     * with what lstat says of it; its content is opened only if the visitor asks. Each folder is opened
     * beneath the one holding it, and so is a file asked for: no link is followed, no other mount entered
     * (a mount point is passed over), and a name the cage swaps on the way is read as what it is then,
     * never anything outside. Links, FIFOs and devices are passed over. Stops when the visitor says so, or
     * after {@code maxNames} names of any kind (a tree of empty folders costs as much to walk as one of
     * files); returns whether it saw everything.
     */
    public boolean walkFiles(int maxNames, FileVisitor visitor) throws IOException {
        int top = openat2(fd, ".", LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_DIRECTORY | LinuxSyscalls.O_CLOEXEC, 0,
                RESOLVE, path);
        Deque<Walked> levels = new ArrayDeque<>();
        byte[] buffer = new byte[LIST_BUFFER];
        long names = 0;
        try {
            levels.push(new Walked(top, "", path, buffer));
            while (!levels.isEmpty()) {
                Walked level = levels.peek();
                if (level.pending.isEmpty()) {
                    LinuxSyscalls.get().close(levels.pop().fd);
                    continue;
                }
                if (names++ >= maxNames) {
                    return false;
                }
                if (!visitName(level, level.pending.remove(level.pending.size() - 1), levels, buffer, visitor)) {
                    return false;
                }
            }
            return true;
        } finally {
            levels.forEach(level -> LinuxSyscalls.get().close(level.fd));
        }
    }

    /**
     * One name of a walk: a folder is pushed on {@code levels}, a regular file handed to the visitor; returns
     * whether to go on. A method of its own, not the loop's body: the JIT compiles it after a few hundred names,
     * while a loop run once (a launcher walks a folder once) is compiled later; a cold walk takes about 5% less.
     */
    private boolean visitName(Walked level, Listed listed, Deque<Walked> levels, byte[] buffer, FileVisitor visitor)
            throws IOException {
        byte type = listed.type();
        if (type != WalkSyscalls.DT_DIR && type != WalkSyscalls.DT_REG && type != WalkSyscalls.DT_UNKNOWN) {
            return true;
        }
        byte[] child = listed.name();
        String relative = level.prefix + decode(child);
        // A folder is opened as one, which fails for anything else: only files need a look first.
        Entry entry = type == WalkSyscalls.DT_DIR ? null
                : statAt(level.fd, child, () -> path.resolve(relative)).orElse(null);
        if (type == WalkSyscalls.DT_DIR || entry != null && entry.kind() == Entry.Kind.DIRECTORY) {
            Path shown = path.resolve(relative);
            int folder = tryOpenat2(level.fd, terminated(child), LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_DIRECTORY
                    | LinuxSyscalls.O_NOFOLLOW | LinuxSyscalls.O_CLOEXEC, 0, RESOLVE | LinuxSyscalls.RESOLVE_NO_XDEV);
            // Another mount, or a name swapped on the way for something that is no folder: passed over.
            if (folder == -LinuxSyscalls.EXDEV || folder == -LinuxSyscalls.ENOENT || folder == -LinuxSyscalls.ENOTDIR
                    || folder == -LinuxSyscalls.ELOOP) {
                return true;
            }
            if (folder < 0) {
                throw exception(-folder, "cannot open", shown);
            }
            levels.push(new Walked(folder, relative + "/", shown, buffer));
            return true;
        }
        return entry == null || entry.kind() != Entry.Kind.FILE || visitor.visit(relative, entry,
                () -> openWalked(level.fd, child, relative, path.resolve(relative)));
    }

    /** Opens one file met on a walk, beneath its folder; a name swapped for anything but a regular file is nothing. */
    private Optional<InputStream> openWalked(int folder, byte[] name, String relative, Path shown) throws IOException {
        int file = tryOpenat2(folder, terminated(name), LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_NOFOLLOW
                | LinuxSyscalls.O_NONBLOCK | LinuxSyscalls.O_NOCTTY | LinuxSyscalls.O_CLOEXEC, 0, RESOLVE);
        if (file == -LinuxSyscalls.ENOENT || file == -LinuxSyscalls.ELOOP) {
            return Optional.empty();
        }
        if (file < 0) {
            throw exception(-file, "cannot open", shown);
        }
        DescriptorInputStream content = new DescriptorInputStream(file, shown);
        try {
            if (fstat(file, relative).kind() != Entry.Kind.FILE) {
                content.close();
                return Optional.empty();
            }
            return Optional.of(content);
        } catch (IOException | RuntimeException e) {
            content.close();
            throw e;
        }
    }

    /** One folder of a walk: its descriptor (closed when the walk leaves it), and its names still to visit, sorted from the last. */
    private static final class Walked {
        final int fd;
        final String prefix;
        final List<Listed> pending;

        Walked(int fd, String prefix, Path shown, byte[] buffer) throws IOException {
            this.fd = fd;
            this.prefix = prefix;
            try {
                this.pending = list(fd, shown, buffer);
            } catch (IOException | RuntimeException e) {
                LinuxSyscalls.get().close(fd);
                throw e;
            }
            // Last name first: the walk takes them from the end.
            pending.sort((one, other) -> Arrays.compareUnsigned(other.name(), one.name()));
        }
    }

    /** One folder being emptied: its descriptor, the names still in it, and where it is. */
    private static final class Level {
        final int parent;
        final byte[] name;
        final Path shown;
        final int fd;
        final List<Listed> pending;

        private Level(int parent, byte[] name, Path shown, int fd, List<Listed> pending) {
            this.parent = parent;
            this.name = name;
            this.shown = shown;
            this.fd = fd;
            this.pending = pending;
        }

        static Level open(int parent, byte[] name, Path shown, byte[] buffer) throws IOException {
            int fd = tryOpenat2(parent, terminated(name), LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_DIRECTORY | LinuxSyscalls.O_NOFOLLOW
                    | LinuxSyscalls.O_CLOEXEC, 0, RESOLVE | LinuxSyscalls.RESOLVE_NO_XDEV);
            if (fd == -LinuxSyscalls.EXDEV) {
                // One name beneath its folder can leave it only onto another mount.
                throw new FileSystemException(shown.toString(), null,
                        "is a mount point: the host side removes nothing through a mount; unmount it first");
            }
            if (fd < 0) {
                throw exception(-fd, "cannot open", shown);
            }
            try {
                return new Level(parent, name, shown, fd, list(fd, shown, buffer));
            } catch (IOException | RuntimeException e) {
                LinuxSyscalls.get().close(fd);
                throw e;
            }
        }

        void close() {
            LinuxSyscalls.get().close(fd);
        }
    }

    /** One name in a folder, with its type as the folder tells it ({@code DT_UNKNOWN} on a file system that does not). */
    private record Listed(byte[] name, byte type) {
    }

    /**
     * The names in the folder {@code fd}, opened for this and read from its start, without "." and "..":
     * a few calls for a whole folder, where readdir through JNA made one for each name.
     *
     * @param buffer where the kernel puts the records, {@link #LIST_BUFFER} bytes: one for a whole walk
     */
    private static List<Listed> list(int fd, Path shown, byte[] buffer) throws IOException {
        List<Listed> names = new ArrayList<>();
        while (true) {
            long filled = WalkSyscalls.getdents64(fd, buffer, buffer.length);
            if (filled < 0) {
                int errno = Native.getLastError();
                if (errno == LinuxSyscalls.EINTR) {
                    continue;
                }
                throw exception(errno, "cannot list", shown);
            }
            if (filled == 0) {
                return names;
            }
            ByteBuffer records = ByteBuffer.wrap(buffer, 0, (int) filled).order(ByteOrder.nativeOrder());
            for (int at = 0; at < filled; at += Short.toUnsignedInt(records.getShort(at + WalkSyscalls.DIRENT64_RECORD_LENGTH))) {
                int nameAt = at + WalkSyscalls.DIRENT64_NAME;
                int nameEnd = nameAt;
                while (buffer[nameEnd] != 0) {
                    nameEnd++;
                }
                byte[] name = Arrays.copyOfRange(buffer, nameAt, nameEnd);
                if (!Arrays.equals(name, DOT) && !Arrays.equals(name, DOT_DOT)) {
                    names.add(new Listed(name, buffer[at + WalkSyscalls.DIRENT64_TYPE]));
                }
            }
        }
    }

    private static final int LIST_BUFFER = 32 * 1024;

    /** @param shown the name in errors, made only for one */
    private static Optional<Entry> statAt(int dirfd, byte[] name, Supplier<Path> shown) throws IOException {
        byte[] statx = new byte[LinuxSyscalls.STATX_SIZE];
        if (WalkSyscalls.statx(dirfd, terminated(name), LinuxSyscalls.AT_SYMLINK_NOFOLLOW,
                LinuxSyscalls.STATX_BASIC_STATS, statx) < 0) {
            int errno = Native.getLastError();
            if (errno == LinuxSyscalls.ENOENT) {
                return Optional.empty();
            }
            throw exception(errno, "cannot look at", shown.get());
        }
        return Optional.of(entry(statx));
    }

    private static void unlinkAt(int dirfd, byte[] name, int flags, Path shown) throws IOException {
        if (LinuxSyscalls.get().unlinkat(dirfd, terminated(name), flags) < 0) {
            int errno = Native.getLastError();
            if (errno != LinuxSyscalls.ENOENT) {
                throw exception(errno, "cannot remove", shown);
            }
        }
    }

    private void unlink(String relative, int flags) throws IOException {
        inParent(relative, (parent, name) -> checked(LinuxSyscalls.get().unlinkat(parent, name, flags), "remove",
                relative));
    }

    /** A call on the last name of a path, through a descriptor of the folder that holds it. */
    @FunctionalInterface
    private interface AtParent<T> {
        T call(int parent, byte[] name) throws IOException;
    }

    /** Opens the folder holding {@code relative} beneath this one, makes {@code call} with it and its last name, closes it. */
    private <T> T inParent(String relative, AtParent<T> call) throws IOException {
        List<String> names = names(relative);
        int parent = openParent(names);
        try {
            return call.call(parent, encode(last(names)));
        } finally {
            LinuxSyscalls.get().close(parent);
        }
    }

    /** Nothing when a call succeeded, else its failure: "cannot WHAT RELATIVE" with errno's words. */
    private Void checked(int result, String what, String relative) throws IOException {
        if (result < 0) {
            throw failure(what, relative);
        }
        return null;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            LinuxSyscalls.get().close(fd);
            fd = -1;
        }
    }

    /** The folder holding the last name, opened beneath this one without following links. */
    private int openParent(List<String> names) throws IOException {
        String parent = names.size() == 1 ? "." : String.join("/", names.subList(0, names.size() - 1));
        return openat2(fd, parent, LinuxSyscalls.O_PATH | LinuxSyscalls.O_DIRECTORY | LinuxSyscalls.O_CLOEXEC, 0,
                RESOLVE, path.resolve(parent));
    }

    /**
     * The names of a relative path: no absolute path, no {@code ..}, no empty name. openat2 would
     * refuse a way out too; refusing it here says what was wrong.
     */
    private List<String> names(String relative) throws IOException {
        if (fd < 0) {
            throw new IllegalStateException("the folder " + path + " is closed");
        }
        List<String> names = new ArrayList<>();
        for (String name : relative.split("/", -1)) {
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (name.equals("..") || name.indexOf('\0') >= 0) {
                throw new FileSystemException(path.resolve(relative).toString(), null,
                        "the host side resolves no '..' in a folder the cage can write");
            }
            names.add(name);
        }
        if (names.isEmpty() || relative.startsWith("/")) {
            throw new FileSystemException(relative, null, "not a name below " + path);
        }
        return names;
    }

    /** Names in the character set Java's own file API uses for paths, so that both name the same files. */
    private static final Charset NAMES = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    private static final byte[] DOT = {'.'};
    private static final byte[] DOT_DOT = {'.', '.'};

    private static byte[] encode(String name) {
        return terminated(name.getBytes(NAMES));
    }

    private static byte[] terminated(byte[] name) {
        return Arrays.copyOf(name, name.length + 1);
    }

    private static String decode(byte[] name) {
        return new String(name, NAMES);
    }

    private static String last(List<String> names) {
        return names.get(names.size() - 1);
    }

    private void requireSingleRegularFile(int file, String relative) throws IOException {
        Entry entry = fstat(file, relative);
        if (entry.kind() != Entry.Kind.FILE) {
            throw new FileSystemException(path.resolve(relative).toString(), null,
                    "not a regular file (the host side writes only regular files in a folder the cage can write)");
        }
        if (entry.links() != 1) {
            throw new FileSystemException(path.resolve(relative).toString(), null, "has " + entry.links()
                    + " hard links: writing it would write the other names too");
        }
    }

    private Entry fstat(int file, String relative) throws IOException {
        byte[] statx = new byte[LinuxSyscalls.STATX_SIZE];
        if (LinuxSyscalls.get().statx(file, encode(""), LinuxSyscalls.AT_EMPTY_PATH, LinuxSyscalls.STATX_BASIC_STATS,
                statx) < 0) {
            throw failure("look at", relative);
        }
        return entry(statx);
    }

    private static Entry entry(byte[] statx) {
        ByteBuffer buffer = ByteBuffer.wrap(statx).order(ByteOrder.nativeOrder());
        int links = buffer.getInt(16);
        int uid = buffer.getInt(20);
        int gid = buffer.getInt(24);
        int mode = Short.toUnsignedInt(buffer.getShort(28));
        long inode = buffer.getLong(32);
        long size = buffer.getLong(40);
        Entry.Kind kind = switch (mode & S_IFMT) {
            case S_IFREG -> Entry.Kind.FILE;
            case S_IFDIR -> Entry.Kind.DIRECTORY;
            case S_IFLNK -> Entry.Kind.SYMLINK;
            default -> Entry.Kind.OTHER;
        };
        return new Entry(kind, uid, gid, mode & 07777, links, size, inode, time(buffer, STATX_MTIME),
                time(buffer, STATX_CTIME));
    }

    /** Where struct statx keeps its times, each a {@code struct statx_timestamp}: seconds, then nanoseconds. */
    private static final int STATX_CTIME = 96;
    private static final int STATX_MTIME = 112;

    private static Instant time(ByteBuffer statx, int offset) {
        return Instant.ofEpochSecond(statx.getLong(offset), Integer.toUnsignedLong(statx.getInt(offset + 8)));
    }

    private static void fchmod(int file, int mode, String relative) throws IOException {
        // The umask cut the mode at creation; the caller asked for exactly this one.
        if (LinuxSyscalls.get().fchmod(file, mode) < 0) {
            throw new FileSystemException(relative, null, LinuxSyscalls.error("fchmod"));
        }
    }

    private IOException failure(String what, String relative) {
        int errno = Native.getLastError();
        return exception(errno, "cannot " + what, path.resolve(relative));
    }

    private static int openat2(int dirfd, String name, int flags, int mode, long resolve, Path shown) throws IOException {
        return openat2(dirfd, encode(name), flags, mode, resolve, shown);
    }

    private static int openat2(int dirfd, byte[] name, int flags, int mode, long resolve, Path shown) throws IOException {
        int fd = tryOpenat2(dirfd, name, flags, mode, resolve);
        if (fd < 0) {
            throw exception(-fd, "cannot open", shown);
        }
        return fd;
    }

    /** The descriptor, or minus the errno. */
    private static int tryOpenat2(int dirfd, byte[] name, int flags, int mode, long resolve) {
        Memory how = new Memory(24);
        how.setLong(0, flags & 0xffffffffL);
        how.setLong(8, mode);
        how.setLong(16, resolve);
        while (true) {
            long result = LinuxSyscalls.get().syscall(new NativeLong(LinuxSyscalls.SYS_OPENAT2), (long) dirfd, name, how,
                    24L).longValue();
            if (result >= 0) {
                return (int) result;
            }
            int errno = Native.getLastError();
            if (errno != LinuxSyscalls.EINTR) {
                return -errno;
            }
        }
    }

    private static IOException exception(int errno, String what, Path shown) {
        String file = shown.toString();
        return switch (errno) {
            case LinuxSyscalls.ENOENT -> new NoSuchFileException(file);
            case LinuxSyscalls.EEXIST -> new FileAlreadyExistsException(file);
            case LinuxSyscalls.ENOTEMPTY -> new DirectoryNotEmptyException(file);
            case LinuxSyscalls.ELOOP, LinuxSyscalls.EXDEV -> new FileSystemException(file, null, what
                    + ": a symbolic link is in the way, and the host side follows no link in a folder the cage can write");
            default -> new FileSystemException(file, null, what + ": " + LinuxSyscalls.get().strerror(errno)
                    + " (errno " + errno + ")");
        };
    }

    /** A descriptor this class opened, for the one stream that reads or writes it and closes it. */
    private static final class OpenDescriptor {
        private final int file;
        private final Path shown;
        private boolean closed;

        OpenDescriptor(int file, Path shown) {
            this.file = file;
            this.shown = shown;
        }

        /** The descriptor, while it is open. */
        int file() throws IOException {
            if (closed) {
                throw new IOException(shown + " is closed");
            }
            return file;
        }

        IOException failure(int errno, String what) {
            return exception(errno, what, shown);
        }

        void close() {
            if (!closed) {
                closed = true;
                LinuxSyscalls.get().close(file);
            }
        }
    }

    /** Reads from a descriptor this class opened, and closes it. */
    private static final class DescriptorInputStream extends InputStream {
        private final OpenDescriptor descriptor;

        DescriptorInputStream(int file, Path shown) {
            descriptor = new OpenDescriptor(file, shown);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            int file = descriptor.file();
            if (length == 0) {
                return 0;
            }
            byte[] chunk = offset == 0 ? bytes : new byte[length];
            while (true) {
                long read = LinuxSyscalls.get().read(file, chunk, length);
                if (read < 0) {
                    int errno = Native.getLastError();
                    if (errno == LinuxSyscalls.EINTR) {
                        continue;
                    }
                    throw descriptor.failure(errno, "cannot read");
                }
                if (read == 0) {
                    return -1;
                }
                if (chunk != bytes) {
                    System.arraycopy(chunk, 0, bytes, offset, (int) read);
                }
                return (int) read;
            }
        }

        /** Skips by moving the file offset: reading the end of a long log costs nothing for its start. */
        @Override
        public long skip(long count) throws IOException {
            int file = descriptor.file();
            if (count <= 0) {
                return 0;
            }
            long before = LinuxSyscalls.get().lseek(file, 0, LinuxSyscalls.SEEK_CUR);
            long after = before < 0 ? -1 : LinuxSyscalls.get().lseek(file, count, LinuxSyscalls.SEEK_CUR);
            if (after < 0) {
                throw descriptor.failure(Native.getLastError(), "cannot seek in");
            }
            return after - before;
        }

        @Override
        public void close() {
            descriptor.close();
        }
    }

    /** Writes to a descriptor this class opened, and closes it. */
    private static final class DescriptorOutputStream extends OutputStream {
        private final OpenDescriptor descriptor;

        DescriptorOutputStream(int file, Path shown) {
            descriptor = new OpenDescriptor(file, shown);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            int file = descriptor.file();
            byte[] rest = offset == 0 && length == bytes.length ? bytes : Arrays.copyOfRange(bytes, offset,
                    offset + length);
            while (rest.length > 0) {
                long written = LinuxSyscalls.get().write(file, rest, rest.length);
                if (written < 0) {
                    int errno = Native.getLastError();
                    if (errno == LinuxSyscalls.EINTR) {
                        continue;
                    }
                    throw descriptor.failure(errno, "cannot write");
                }
                rest = Arrays.copyOfRange(rest, (int) written, rest.length);
            }
        }

        @Override
        public void close() {
            descriptor.close();
        }
    }
}
