package dev.claudecage.host;

import dev.claudecage.CageException;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * A network namespace held open by its file descriptor, in which code runs on the calling thread:
 * a socket belongs to the namespace it was created in, whatever thread uses it later. The
 * supervisor connects into a cage's loopback this way (desktop publishing), and tests open server
 * sockets on test hosts they made. The thread is always moved back.
 */
public final class Netns implements AutoCloseable {

    private final Path file;
    private int fd;

    private Netns(Path file, int fd) {
        this.file = file;
        this.fd = fd;
    }

    /** Holds the namespace of {@code file}: /run/netns/NAME or /proc/PID/ns/net. */
    public static Netns open(Path file) {
        return new Netns(file, openFile(file.toString()));
    }

    /** Runs {@code action} in the named namespace /run/netns/{@code name}. */
    public static <T> T call(String name, Callable<T> action) throws Exception {
        try (Netns namespace = open(Path.of("/run/netns", name))) {
            return namespace.call(action);
        }
    }

    /** Runs {@code action} on this thread inside the namespace, then moves the thread back. */
    public synchronized <T> T call(Callable<T> action) throws Exception {
        if (fd < 0) {
            throw new IllegalStateException("the namespace of " + file + " is closed");
        }
        int original = openFile("/proc/thread-self/ns/net");
        try {
            enter(fd, file.toString());
            try {
                return action.call();
            } finally {
                enter(original, "this thread's own namespace");
            }
        } finally {
            LinuxSyscalls.get().close(original);
        }
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            LinuxSyscalls.get().close(fd);
            fd = -1;
        }
    }

    private static int openFile(String path) {
        int fd = LinuxSyscalls.get().open(path, LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_CLOEXEC);
        if (fd < 0) {
            throw new CageException(LinuxSyscalls.error("cannot open the network namespace " + path));
        }
        return fd;
    }

    private static void enter(int fd, String what) {
        if (LinuxSyscalls.get().setns(fd, LinuxSyscalls.CLONE_NEWNET) != 0) {
            throw new CageException(LinuxSyscalls.error("setns into the network namespace of " + what + " failed"));
        }
    }
}
