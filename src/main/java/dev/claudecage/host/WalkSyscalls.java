package dev.claudecage.host;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The calls {@link UntrustedDirectory} makes for every name of a folder it walks, bound to libc directly
 * ({@link Native#register}) rather than through {@link LinuxSyscalls}' interface: a call through the interface
 * costs about 3.4 µs, a direct one 1.2 µs, and a walk makes one for each of tens of thousands of names (a
 * repository's workspace), before its cage starts. Binding costs about 16 ms once, on the first walk (which
 * runs on a thread of its own beside the cage's preparation).
 * Errors as {@link LinuxSyscalls}': -1 and {@link Native#getLastError()}.
 */
final class WalkSyscalls {

    /** Where struct linux_dirent64 keeps its record's length, its type and its name (NUL-terminated). */
    static final int DIRENT64_RECORD_LENGTH = 16;
    static final int DIRENT64_TYPE = 18;
    static final int DIRENT64_NAME = 19;
    static final byte DT_UNKNOWN = 0;
    static final byte DT_DIR = 4;
    static final byte DT_REG = 8;

    static {
        // The same library LinuxSyscalls loaded, found the way it is (by its file name, no search).
        LinuxSyscalls.get();
        Native.register(WalkSyscalls.class, NativeLibrary.getInstance("libc.so.6"));
    }

    private WalkSyscalls() {
    }

    /** Binds the calls now (this class's initialisation), rather than at the first walk. */
    static void bind() {
        // Nothing more: calling a static method of the class initialises it.
    }

    /** Paths as NUL-terminated bytes; fills {@code statx} (256 bytes). */
    static native int statx(int dirfd, byte[] path, int flags, int mask, byte[] statx);

    /** Fills {@code buffer} with the folder's next struct linux_dirent64 records; 0 at its end. */
    static native long getdents64(int fd, byte[] buffer, long size);
}
