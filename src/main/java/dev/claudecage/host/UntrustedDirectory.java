package dev.claudecage.host;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

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

    /** What one name below the folder is, as lstat sees it. */
    public record Entry(Kind kind, int uid, int gid, int permissions, int links, long size) {
        public enum Kind { FILE, DIRECTORY, SYMLINK, OTHER }
    }

    private final Path path;
    private int fd;

    private UntrustedDirectory(Path path, int fd) {
        this.path = path;
        this.fd = fd;
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

    /** What {@code relative} is, without following it, or empty when nothing has that name. */
    public Optional<Entry> stat(String relative) throws IOException {
        List<String> names = names(relative);
        int parent = openParent(names);
        try {
            byte[] statx = new byte[LinuxSyscalls.STATX_SIZE];
            if (LinuxSyscalls.get().statx(parent, last(names), LinuxSyscalls.AT_SYMLINK_NOFOLLOW,
                    LinuxSyscalls.STATX_BASIC_STATS, statx) < 0) {
                if (Native.getLastError() == LinuxSyscalls.ENOENT) {
                    return Optional.empty();
                }
                throw failure("look at", relative);
            }
            return Optional.of(entry(statx));
        } finally {
            LinuxSyscalls.get().close(parent);
        }
    }

    /** Makes the folder {@code relative}; its parent must exist, the name must not. */
    public void createDirectory(String relative, int mode) throws IOException {
        List<String> names = names(relative);
        int parent = openParent(names);
        try {
            if (LinuxSyscalls.get().mkdirat(parent, last(names), mode) < 0) {
                throw failure("make the folder", relative);
            }
        } finally {
            LinuxSyscalls.get().close(parent);
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
                if (LinuxSyscalls.get().renameat(parent, last(names(temporary)), parent, last(names)) < 0) {
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

    /** Gives {@code relative} (never what it points to) to {@code uid}:{@code gid}. */
    public void chown(String relative, int uid, int gid) throws IOException {
        List<String> names = names(relative);
        int parent = openParent(names);
        try {
            if (LinuxSyscalls.get().fchownat(parent, last(names), uid, gid, LinuxSyscalls.AT_SYMLINK_NOFOLLOW) < 0) {
                throw failure("change the owner of", relative);
            }
        } finally {
            LinuxSyscalls.get().close(parent);
        }
    }

    /** Removes the name {@code relative} if it is not a folder (a link is removed, not followed). */
    public void removeFile(String relative) throws IOException {
        unlink(relative, 0);
    }

    /** Removes the empty folder {@code relative}. */
    public void removeEmptyDirectory(String relative) throws IOException {
        unlink(relative, LinuxSyscalls.AT_REMOVEDIR);
    }

    private void unlink(String relative, int flags) throws IOException {
        List<String> names = names(relative);
        int parent = openParent(names);
        try {
            if (LinuxSyscalls.get().unlinkat(parent, last(names), flags) < 0) {
                throw failure("remove", relative);
            }
        } finally {
            LinuxSyscalls.get().close(parent);
        }
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
        if (LinuxSyscalls.get().statx(file, "", LinuxSyscalls.AT_EMPTY_PATH, LinuxSyscalls.STATX_BASIC_STATS, statx) < 0) {
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
        long size = buffer.getLong(40);
        Entry.Kind kind = switch (mode & S_IFMT) {
            case S_IFREG -> Entry.Kind.FILE;
            case S_IFDIR -> Entry.Kind.DIRECTORY;
            case S_IFLNK -> Entry.Kind.SYMLINK;
            default -> Entry.Kind.OTHER;
        };
        return new Entry(kind, uid, gid, mode & 07777, links, size);
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
                throw exception(errno, "cannot open", shown);
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

    /** Writes to a descriptor this class opened, and closes it. */
    private static final class DescriptorOutputStream extends OutputStream {
        private final int file;
        private final Path shown;
        private boolean closed;

        DescriptorOutputStream(int file, Path shown) {
            this.file = file;
            this.shown = shown;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            if (closed) {
                throw new IOException(shown + " is closed");
            }
            byte[] rest = offset == 0 && length == bytes.length ? bytes : Arrays.copyOfRange(bytes, offset,
                    offset + length);
            while (rest.length > 0) {
                long written = LinuxSyscalls.get().write(file, rest, rest.length);
                if (written < 0) {
                    int errno = Native.getLastError();
                    if (errno == LinuxSyscalls.EINTR) {
                        continue;
                    }
                    throw exception(errno, "cannot write", shown);
                }
                rest = Arrays.copyOfRange(rest, (int) written, rest.length);
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                LinuxSyscalls.get().close(file);
            }
        }
    }
}
