package dev.claudecage.host;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A user namespace with the given id maps, held by a descriptor alone, for {@code mount_setattr}'s
 * idmapped mounts; no process lives in it. A user namespace is made by a process, and a threaded
 * one (this JVM) may not unshare into one, so a child is cloned into a new one: it shares this
 * process's memory, runs {@code getpid} on a stack of its own and exits at once. Until it is reaped,
 * its credentials still name the namespace, so its maps can be written and the namespace opened
 * through /proc; then it is reaped. Nothing is executed and nothing waited for (a spawned
 * {@code unshare --user} cost a one-shot run about 20 ms, most of it waiting for its start), and
 * however this process ends, nothing of the child is left behind.
 */
public final class MappedUserNamespace {

    /** getpid needs a few bytes of stack; the rest is margin. */
    private static final int STACK_SIZE = 64 * 1024;

    private MappedUserNamespace() {
    }

    /**
     * A new user namespace mapped by {@code uidMap} and {@code gidMap} (/proc/PID/uid_map's format), as
     * a descriptor the caller closes.
     */
    public static int open(String uidMap, String gidMap) {
        LinuxSyscalls libc = LinuxSyscalls.get();
        Pointer exitAtOnce = NativeLibrary.getInstance("libc.so.6").getFunction("getpid");
        Memory stack = new Memory(STACK_SIZE);
        Pointer top = new Pointer((Pointer.nativeValue(stack) + STACK_SIZE) & ~15L);
        // No exit signal: the JVM hears nothing of it, and only a wait for every kind of child reaps it.
        int pid = libc.clone(exitAtOnce, top, LinuxSyscalls.CLONE_VM | LinuxSyscalls.CLONE_NEWUSER, Pointer.NULL);
        if (pid < 0) {
            throw new CageException(LinuxSyscalls.error("cannot create a user namespace to shift mounts with: clone"),
                    "the kernel must allow user namespaces (/proc/sys/user/max_user_namespaces); "
                            + "claude-cage doctor says what this host lacks");
        }
        try {
            Path proc = Path.of("/proc", Integer.toString(pid));
            try {
                Files.writeString(proc.resolve("uid_map"), uidMap);
                Files.writeString(proc.resolve("gid_map"), gidMap);
            } catch (IOException e) {
                throw new CageException("cannot write the id map of a shifting user namespace (" + proc + "): "
                        + e.getMessage());
            }
            int fd = libc.open(proc.resolve("ns/user").toString(), LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_CLOEXEC);
            if (fd < 0) {
                throw new CageException(LinuxSyscalls.error("cannot open " + proc.resolve("ns/user")));
            }
            return fd;
        } finally {
            reap(libc, pid);
            // The child ran on it: freed only once it is gone.
            stack.close();
        }
    }

    private static void reap(LinuxSyscalls libc, int pid) {
        int[] status = new int[1];
        while (libc.waitpid(pid, status, LinuxSyscalls.WAIT_ALL) < 0) {
            if (Native.getLastError() != LinuxSyscalls.EINTR) {
                throw new CageException(LinuxSyscalls.error("cannot reap the child that made a shifting user "
                        + "namespace"));
            }
        }
    }
}
