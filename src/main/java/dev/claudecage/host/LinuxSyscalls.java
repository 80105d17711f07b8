package dev.claudecage.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import dev.claudecage.DaemonThreads;

import java.lang.reflect.Field;
import java.util.Optional;

/**
 * The Linux system calls that Java has no API for, from libc through JNA, in one binding: files
 * through descriptors ({@link UntrustedDirectory}), terminals (a session's pty), namespaces
 * ({@link Netns}), the new mount API ({@link IdmappedMount}), extended attributes and device nodes
 * (image layers). Every call returns -1 on failure with errno in {@link Native#getLastError()};
 * {@link #error} turns that into words. The constants and system call numbers are Linux's, the
 * same on x86_64 and aarch64 (the calls numbered from 424 on were given one number for every
 * architecture).
 */
public interface LinuxSyscalls extends Library {

    int AT_FDCWD = -100;
    int AT_SYMLINK_NOFOLLOW = 0x100;
    int AT_RECURSIVE = 0x8000;
    int AT_REMOVEDIR = 0x200;
    int AT_EMPTY_PATH = 0x1000;

    int O_RDONLY = 0;
    int O_WRONLY = 01;
    int O_RDWR = 02;
    int O_CREAT = 0100;
    int O_EXCL = 0200;
    int O_NOCTTY = 0400;
    int O_TRUNC = 01000;
    int O_APPEND = 02000;
    int O_NONBLOCK = 04000;
    int O_DIRECTORY = 0200000;
    int O_NOFOLLOW = 0400000;
    int O_CLOEXEC = 02000000;
    int O_PATH = 010000000;

    long SYS_OPENAT2 = 437;
    /** openat2's resolve flags. */
    long RESOLVE_NO_XDEV = 0x01;
    long RESOLVE_NO_MAGICLINKS = 0x02;
    long RESOLVE_NO_SYMLINKS = 0x04;
    long RESOLVE_BENEATH = 0x08;

    long SYS_OPEN_TREE = 428;
    long SYS_MOVE_MOUNT = 429;
    long SYS_MOUNT_SETATTR = 442;
    int OPEN_TREE_CLONE = 1;
    int MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    long MOUNT_ATTR_RDONLY = 0x1;
    long MOUNT_ATTR_NOSUID = 0x2;
    long MOUNT_ATTR_NODEV = 0x4;
    long MOUNT_ATTR_NOEXEC = 0x8;
    long MOUNT_ATTR_IDMAP = 0x00100000L;
    /** struct mount_attr: attr_set, attr_clr, propagation, userns_fd, each 64 bits. */
    int MOUNT_ATTR_SIZE = 32;
    int MNT_DETACH = 2;

    int CLONE_VM = 0x100;
    int CLONE_NEWUSER = 0x10000000;
    int CLONE_NEWNET = 0x40000000;
    /** waitpid: any child, whatever signal it was to send its parent at its end (none, for one cloned so). */
    int WAIT_ALL = 0x40000000;

    long TIOCGWINSZ = 0x5413;
    long TIOCSWINSZ = 0x5414;
    int TCSANOW = 0;
    short POLLIN = 0x1;
    int SIGWINCH = 28;
    /** Large enough for glibc's struct termios (60 bytes) with room to spare; callers never look inside. */
    int TERMIOS_SIZE = 256;

    int S_IFCHR = 0020000;

    int STATX_BASIC_STATS = 0x7ff;
    /** struct statx is 256 bytes on every architecture. */
    int STATX_SIZE = 256;

    int EPERM = 1;
    int ENOENT = 2;
    int EINTR = 4;
    int EAGAIN = 11;
    int EEXIST = 17;
    int ENOTDIR = 20;
    int EISDIR = 21;
    int ENOTEMPTY = 39;
    int ELOOP = 40;
    int EACCES = 13;
    int EBUSY = 16;
    int EXDEV = 18;
    int ENODEV = 19;
    int EINVAL = 22;
    int ERANGE = 34;
    int ENOSYS = 38;
    int ENODATA = 61;
    int ENOTSUP = 95;

    NativeLong syscall(NativeLong number, Object... args);

    int open(String path, int flags);

    int close(int fd);

    /** mount(2); the caller's paths are the launcher's own (run folder, image store), not names a cage made. */
    int mount(String source, String target, String fileSystemType, long flags, String data);

    int umount2(String target, int flags);

    long read(int fd, byte[] buffer, long count);

    long write(int fd, byte[] buffer, long count);

    int SEEK_CUR = 1;

    long lseek(int fd, long offset, int whence);

    // Paths as NUL-terminated bytes, as the kernel takes them: a name the cage made need not be
    // valid in any character set.
    int statx(int dirfd, byte[] path, int flags, int mask, byte[] statx);

    int mkdirat(int dirfd, byte[] path, int mode);

    int unlinkat(int dirfd, byte[] path, int flags);

    int renameat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath);

    int fchownat(int dirfd, byte[] path, int uid, int gid, int flags);

    long readlinkat(int dirfd, byte[] path, byte[] buffer, long size);

    int symlinkat(byte[] target, int newdirfd, byte[] linkpath);

    int dup2(int fd, int target);

    int fchmod(int fd, int mode);

    int fsync(int fd);

    int isatty(int fd);

    int posix_openpt(int flags);

    int grantpt(int fd);

    int unlockpt(int fd);

    int ptsname_r(int fd, byte[] buffer, long length);

    /** ioctl with a struct winsize: rows, columns, x pixels, y pixels. */
    int ioctl(int fd, long request, short[] winsize);

    /** poll(2) on {@code fds}, contiguous ({@link PollFd#toArray(int)}). */
    int poll(PollFd[] fds, long count, int timeoutMillis);

    int pipe2(int[] fds, int flags);

    int tcgetattr(int fd, byte[] termios);

    int tcsetattr(int fd, int when, byte[] termios);

    void cfmakeraw(byte[] termios);

    int kill(int pid, int signal);

    /** glibc's clone: the child runs {@code fn(arg)} on {@code stack} (its top), and exits with what it returns. */
    int clone(Pointer fn, Pointer stack, int flags, Pointer arg);

    int waitpid(int pid, int[] status, int options);

    int setns(int fd, int nstype);

    // Extended attributes and device nodes, of the path itself: none of these follow a symbolic link.
    long llistxattr(String path, byte[] list, long size);

    long lgetxattr(String path, String name, byte[] value, long size);

    int lsetxattr(String path, String name, byte[] value, long size, int flags);

    int mknod(String path, int mode, long device);

    String strerror(int errno);

    /** struct pollfd. */
    @Structure.FieldOrder({"fd", "events", "revents"})
    final class PollFd extends Structure {
        public int fd;
        public short events;
        public short revents;
    }

    static LinuxSyscalls get() {
        return Holder.LIBC;
    }

    /**
     * Loads the binding on a thread of its own, for a caller that will need it later and waits
     * meanwhile (a cage's teardown, while the cage runs): loading JNA costs a one-shot run about
     * 25 ms, spent here beside the runtime instead of after it. Not the calls a walk of a folder makes
     * ({@link WalkSyscalls}): only a cage with writable mounts walks, and its first walk binds them on
     * its own thread; binding them here cost every other cage's start about 16 ms of a busy core. A
     * failure is left for the first real call to report.
     */
    static void loadInBackground() {
        inBackground(LinuxSyscalls::get);
    }

    /**
     * As {@link #loadInBackground}, and then the calls a walk of a folder makes ({@link WalkSyscalls}): for a
     * one-shot run's teardown, which walks the cage's run folder to remove it without following the cage's
     * links, bound while the cage runs and the launcher only waits. Bound in the teardown instead, they cost
     * every one-shot run about 8 ms after its cage had ended. Not for a session's supervisor, which would
     * hold the binding for the session's whole life.
     */
    static void loadWithWalkInBackground() {
        inBackground(() -> {
            get();
            WalkSyscalls.bind();
        });
    }

    private static void inBackground(Runnable load) {
        DaemonThreads.start("load-libc-binding", () -> {
            try {
                load.run();
            } catch (LinkageError e) {
                // The first real call meets it again, and says what failed.
            }
        });
    }

    /** "what: strerror(errno) (ENAME, errno N)" for the call that just failed. */
    static String error(String what) {
        int errno = Native.getLastError();
        return what + ": " + Holder.LIBC.strerror(errno) + " (" + errnoName(errno).map(name -> name + ", ").orElse("")
                + "errno " + errno + ")";
    }

    /** The symbolic name of {@code errno}, from this binding's own constants: the name a user searches for. */
    static Optional<String> errnoName(int errno) {
        for (Field field : LinuxSyscalls.class.getFields()) {
            try {
                if (field.getType() == int.class && field.getName().matches("E[A-Z]+") && field.getInt(null) == errno) {
                    return Optional.of(field.getName());
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("an interface constant is always readable", e);
            }
        }
        return Optional.empty();
    }

    final class Holder {
        private static final String PLATFORM_LIBRARY_PATH = "jna.platform.library.path";
        // By its file name: "c" would make JNA run ldconfig -p to find it, a quarter of a second.
        static final LinuxSyscalls LIBC = load();

        private Holder() {
        }

        private static LinuxSyscalls load() {
            // Named by its file, libc needs no search path; without one of the caller's, JNA would make its
            // own by running ldconfig -p as it first loads (about 15 ms, before a cage's layers can be idmapped).
            if (System.getProperty(PLATFORM_LIBRARY_PATH) == null) {
                System.setProperty(PLATFORM_LIBRARY_PATH, "");
            }
            return Native.load("libc.so.6", LinuxSyscalls.class);
        }
    }
}
