package dev.claudecage.testing;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.util.concurrent.Callable;

/**
 * Runs code with the calling thread inside a named network namespace (/run/netns/NAME), so a
 * test can open server sockets on a test host it made: a socket belongs to the namespace it
 * was created in, whatever thread uses it later. The thread is always moved back.
 */
public final class Netns {

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int open(String path, int flags);

        int close(int fd);

        int setns(int fd, int nstype);
    }

    private Netns() {
    }

    public static <T> T call(String namespace, Callable<T> action) throws Exception {
        int original = open("/proc/thread-self/ns/net");
        try {
            int target = open("/run/netns/" + namespace);
            try {
                enter(target, namespace);
                try {
                    return action.call();
                } finally {
                    enter(original, "the test's own namespace");
                }
            } finally {
                LibC.INSTANCE.close(target);
            }
        } finally {
            LibC.INSTANCE.close(original);
        }
    }

    private static int open(String path) {
        int fd = LibC.INSTANCE.open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw new IllegalStateException("cannot open " + path + " (errno " + Native.getLastError() + ")");
        }
        return fd;
    }

    private static void enter(int fd, String what) {
        if (LibC.INSTANCE.setns(fd, CLONE_NEWNET) != 0) {
            throw new IllegalStateException("setns into " + what + " failed (errno " + Native.getLastError() + ")");
        }
    }
}
