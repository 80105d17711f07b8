package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.host.LinuxSyscalls;

/**
 * The user's terminal on the attach side: raw mode while attached (every key goes to the cage,
 * Ctrl-C included), restored on every way out, and its window size.
 */
final class LocalTerminal implements AutoCloseable {

    private final int fd;
    private final byte[] saved;

    private LocalTerminal(int fd, byte[] saved) {
        this.fd = fd;
        this.saved = saved;
    }

    /** Puts {@code fd} (a terminal) in raw mode; {@link #close()} restores it. */
    static LocalTerminal raw(int fd) {
        LinuxSyscalls libc = LinuxSyscalls.get();
        byte[] saved = new byte[LinuxSyscalls.TERMIOS_SIZE];
        if (libc.tcgetattr(fd, saved) != 0) {
            throw new CageException(LinuxSyscalls.error("cannot read the terminal's settings"));
        }
        byte[] raw = saved.clone();
        libc.cfmakeraw(raw);
        if (libc.tcsetattr(fd, LinuxSyscalls.TCSANOW, raw) != 0) {
            throw new CageException(LinuxSyscalls.error("cannot put the terminal in raw mode"));
        }
        return new LocalTerminal(fd, saved);
    }

    /** Rows and columns of the terminal on {@code fd}, or null when it is not a terminal. */
    static int[] size(int fd) {
        short[] size = new short[4];
        if (LinuxSyscalls.get().ioctl(fd, LinuxSyscalls.TIOCGWINSZ, size) != 0 || size[0] == 0) {
            return null;
        }
        return new int[] {Short.toUnsignedInt(size[0]), Short.toUnsignedInt(size[1])};
    }

    @Override
    public synchronized void close() {
        LinuxSyscalls.get().tcsetattr(fd, LinuxSyscalls.TCSANOW, saved);
    }
}
