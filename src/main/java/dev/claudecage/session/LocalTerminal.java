package dev.claudecage.session;

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
        LibC libc = LibC.get();
        byte[] saved = new byte[LibC.TERMIOS_SIZE];
        if (libc.tcgetattr(fd, saved) != 0) {
            throw new dev.claudecage.CageException(LibC.error("cannot read the terminal's settings"));
        }
        byte[] raw = saved.clone();
        libc.cfmakeraw(raw);
        if (libc.tcsetattr(fd, LibC.TCSANOW, raw) != 0) {
            throw new dev.claudecage.CageException(LibC.error("cannot put the terminal in raw mode"));
        }
        return new LocalTerminal(fd, saved);
    }

    /** Rows and columns of the terminal on {@code fd}, or null when it is not a terminal. */
    static int[] size(int fd) {
        short[] size = new short[4];
        if (LibC.get().ioctl(fd, LibC.TIOCGWINSZ, size) != 0 || size[0] == 0) {
            return null;
        }
        return new int[] {Short.toUnsignedInt(size[0]), Short.toUnsignedInt(size[1])};
    }

    @Override
    public synchronized void close() {
        LibC.get().tcsetattr(fd, LibC.TCSANOW, saved);
    }
}
