package dev.claudecage.session;

import java.nio.charset.StandardCharsets;

/**
 * How a starting supervisor tells the command that launched it how the start went: one line per
 * step on a duplicate of its original stdout (a pipe to the launcher), kept apart from the
 * descriptors that become the cage's terminal. Closed once the cage runs or has failed; a
 * launcher that went away meanwhile is not an error.
 */
final class Handshake implements AutoCloseable {

    static final String SUPERVISING = "SUPERVISING";
    static final String RUNNING = "RUNNING";
    static final String FAILED = "FAILED";

    private int fd;

    private Handshake(int fd) {
        this.fd = fd;
    }

    /** Keeps this process's stdout for the handshake, before it is replaced. */
    static Handshake fromStdout() {
        return new Handshake(LibC.get().dup(1));
    }

    static Handshake none() {
        return new Handshake(-1);
    }

    synchronized void send(String word, String detail) {
        if (fd < 0) {
            return;
        }
        String line = word + (detail == null ? "" : " " + detail.replace('\n', ' ').replace('\r', ' ')) + "\n";
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        LibC.get().write(fd, bytes, bytes.length);
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            LibC.get().close(fd);
            fd = -1;
        }
    }
}
