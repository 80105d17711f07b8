package dev.claudecage.session;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;

/**
 * The terminal and descriptor calls that Java has no API for, from libc through JNA. Every call
 * returns -1 on failure with errno in {@link Native#getLastError()}; callers say what failed.
 * The constants are Linux's, the same on x86_64 and aarch64.
 */
interface LibC extends Library {

    int O_RDWR = 02;
    int O_NOCTTY = 0400;
    int O_CLOEXEC = 02000000;
    long TIOCGWINSZ = 0x5413;
    long TIOCSWINSZ = 0x5414;
    int TCSANOW = 0;
    short POLLIN = 0x1;
    int SIGWINCH = 28;
    int EINTR = 4;
    int EAGAIN = 11;
    /** Large enough for glibc's struct termios (60 bytes) with room to spare; callers never look inside. */
    int TERMIOS_SIZE = 256;

    int posix_openpt(int flags);

    int grantpt(int fd);

    int unlockpt(int fd);

    int ptsname_r(int fd, byte[] buffer, long length);

    int open(String path, int flags);

    int close(int fd);

    int dup(int fd);

    int dup2(int fd, int target);

    long read(int fd, byte[] buffer, long count);

    long write(int fd, byte[] buffer, long count);

    /** ioctl with a struct winsize: rows, columns, x pixels, y pixels. */
    int ioctl(int fd, long request, short[] winsize);

    int poll(PollFd fd, long count, int timeoutMillis);

    int kill(int pid, int signal);

    int tcgetattr(int fd, byte[] termios);

    int tcsetattr(int fd, int when, byte[] termios);

    void cfmakeraw(byte[] termios);

    String strerror(int errno);

    /** struct pollfd. */
    @Structure.FieldOrder({"fd", "events", "revents"})
    final class PollFd extends Structure {
        public int fd;
        public short events;
        public short revents;
    }

    static LibC get() {
        return Holder.LIBC;
    }

    /** "what: strerror(errno)" for the call that just failed. */
    static String error(String what) {
        int errno = Native.getLastError();
        return what + ": " + Holder.LIBC.strerror(errno) + " (errno " + errno + ")";
    }

    final class Holder {
        // By its file name: "c" would make JNA run ldconfig -p to find it, a quarter of a second.
        static final LibC LIBC = Native.load("libc.so.6", LibC.class);

        private Holder() {
        }
    }
}
