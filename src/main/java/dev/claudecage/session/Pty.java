package dev.claudecage.session;

import com.sun.jna.Native;
import dev.claudecage.CageException;
import dev.claudecage.host.LinuxSyscalls;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A pseudo-terminal held by the supervisor. The slave side becomes the runtime's stdio, so the
 * runtime sees a terminal and gives the cage one of its own; the master side stays here, is read
 * into the session log and relayed to attach clients. Holding the master in a process that lives
 * as long as the session is what makes detaching and attaching again possible.
 */
final class Pty implements AutoCloseable {

    private final int master;
    private final String slavePath;
    /** A pipe whose read end a {@link #read} waits on beside the master: {@link #wakeReader} ends its wait. */
    private final int[] wake;
    private volatile boolean closed;

    private Pty(int master, String slavePath, int[] wake) {
        this.master = master;
        this.slavePath = slavePath;
        this.wake = wake;
    }

    static Pty open() {
        LinuxSyscalls libc = LinuxSyscalls.get();
        int master = libc.posix_openpt(LinuxSyscalls.O_RDWR | LinuxSyscalls.O_NOCTTY | LinuxSyscalls.O_CLOEXEC);
        if (master < 0) {
            throw new CageException(LinuxSyscalls.error("cannot allocate a pseudo-terminal (posix_openpt)"));
        }
        if (libc.grantpt(master) != 0 || libc.unlockpt(master) != 0) {
            String error = LinuxSyscalls.error("cannot unlock the pseudo-terminal");
            libc.close(master);
            throw new CageException(error);
        }
        byte[] name = new byte[128];
        if (libc.ptsname_r(master, name, name.length) != 0) {
            String error = LinuxSyscalls.error("cannot name the pseudo-terminal");
            libc.close(master);
            throw new CageException(error);
        }
        int end = 0;
        while (end < name.length && name[end] != 0) {
            end++;
        }
        int[] wake = new int[2];
        if (libc.pipe2(wake, LinuxSyscalls.O_CLOEXEC | LinuxSyscalls.O_NONBLOCK) != 0) {
            String error = LinuxSyscalls.error("cannot make the terminal reader's wake-up pipe");
            libc.close(master);
            throw new CageException(error);
        }
        return new Pty(master, new String(name, 0, end, StandardCharsets.US_ASCII), wake);
    }

    String slavePath() {
        return slavePath;
    }

    /**
     * Makes the slave this process's stdin, stdout and stderr, so that a child started with
     * inherited stdio runs on the terminal. The slave stays open here for the pty's whole life:
     * the master never sees a hang-up between a child's exit and the next read.
     */
    void becomeStdio() {
        LinuxSyscalls libc = LinuxSyscalls.get();
        int slave = libc.open(slavePath, LinuxSyscalls.O_RDWR | LinuxSyscalls.O_NOCTTY);
        if (slave < 0) {
            throw new CageException(LinuxSyscalls.error("cannot open " + slavePath));
        }
        for (int fd = 0; fd <= 2; fd++) {
            if (libc.dup2(slave, fd) < 0) {
                String error = LinuxSyscalls.error("cannot put " + slavePath + " on descriptor " + fd);
                libc.close(slave);
                throw new CageException(error);
            }
        }
        libc.close(slave);
    }

    void resize(int rows, int columns) {
        short[] size = {(short) rows, (short) columns, 0, 0};
        if (LinuxSyscalls.get().ioctl(master, LinuxSyscalls.TIOCSWINSZ, size) != 0) {
            throw new CageException(LinuxSyscalls.error("cannot set the terminal size of " + slavePath));
        }
    }

    int[] size() {
        short[] size = new short[4];
        if (LinuxSyscalls.get().ioctl(master, LinuxSyscalls.TIOCGWINSZ, size) != 0) {
            return new int[] {0, 0};
        }
        return new int[] {Short.toUnsignedInt(size[0]), Short.toUnsignedInt(size[1])};
    }

    /**
     * Waits up to {@code timeoutMillis} for output and reads it: the bytes read, an empty array on
     * timeout, or null when the terminal is gone. Once {@link #wakeReader} was called it no longer
     * waits: it reads what output there is, and then returns an empty array at once.
     */
    byte[] read(byte[] buffer, int timeoutMillis) {
        if (closed) {
            return null;
        }
        LinuxSyscalls libc = LinuxSyscalls.get();
        LinuxSyscalls.PollFd[] polls = (LinuxSyscalls.PollFd[]) new LinuxSyscalls.PollFd().toArray(2);
        polls[0].fd = master;
        polls[0].events = LinuxSyscalls.POLLIN;
        polls[1].fd = wake[0];
        polls[1].events = LinuxSyscalls.POLLIN;
        int ready = libc.poll(polls, polls.length, timeoutMillis);
        if (ready == 0 || (ready < 0 && Native.getLastError() == LinuxSyscalls.EINTR)) {
            return new byte[0];
        }
        if (ready < 0) {
            return null;
        }
        if (polls[0].revents == 0) {
            // Only the wake-up: the master has nothing to read.
            return new byte[0];
        }
        long count = libc.read(master, buffer, buffer.length);
        if (count > 0) {
            return Arrays.copyOf(buffer, (int) count);
        }
        if (count < 0 && (Native.getLastError() == LinuxSyscalls.EINTR
                || Native.getLastError() == LinuxSyscalls.EAGAIN)) {
            return new byte[0];
        }
        return null;
    }

    /**
     * Ends the wait of a {@link #read} under way, and of every later one: for the last read of a
     * cage that has ended, whose output is all in the master by now (waiting out the read's
     * timeout cost every stop 50 ms on average).
     */
    synchronized void wakeReader() {
        if (!closed) {
            LinuxSyscalls.get().write(wake[1], new byte[] {1}, 1);
        }
    }

    /** Writes all of {@code data} to the terminal, as if typed. */
    synchronized void write(byte[] data) {
        if (closed) {
            return;
        }
        LinuxSyscalls libc = LinuxSyscalls.get();
        byte[] rest = data;
        while (rest.length > 0) {
            long written = libc.write(master, rest, rest.length);
            if (written < 0) {
                if (Native.getLastError() == LinuxSyscalls.EINTR) {
                    continue;
                }
                return;
            }
            rest = Arrays.copyOfRange(rest, (int) written, rest.length);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LinuxSyscalls libc = LinuxSyscalls.get();
            libc.close(master);
            libc.close(wake[0]);
            libc.close(wake[1]);
        }
    }
}
