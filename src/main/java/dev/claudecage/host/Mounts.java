package dev.claudecage.host;

import com.sun.jna.Native;
import dev.claudecage.CageException;

import java.nio.file.Path;

/**
 * The launcher's own mounts and unmounts, as system calls through the one C library binding: a
 * {@code mount} or {@code umount} process cost a one-shot run about 11 and 13 ms, most of it the
 * process's start and libmount reading the mount table. Only for mounts made in this process's
 * own namespaces; a rootless cage's are made inside its user namespace, by processes.
 */
public final class Mounts implements Mounter {

    public static final Mounts SYSTEM_CALLS = new Mounts();

    private Mounts() {
    }

    /**
     * Exactly what {@code mount -t overlay -o OPTIONS overlay TARGET} asks the kernel for; the
     * options' layers escaped as overlayfs reads them.
     */
    @Override
    public void overlay(String options, Path target, String what) {
        if (LinuxSyscalls.get().mount("overlay", target.toString(), "overlay", 0, options) < 0) {
            throw new CageException(LinuxSyscalls.error("cannot mount " + what + " at " + target),
                    "overlayfs refused its options: " + options + "; the kernel's log (dmesg) says why, "
                            + "and claude-cage doctor what this host supports");
        }
    }

    /** Gone already means as for the {@code umount} command ({@code CommandResult.succeededOrGone}). */
    @Override
    public void unmount(Path target, boolean detachWhenBusy, String what) {
        LinuxSyscalls libc = LinuxSyscalls.get();
        if (libc.umount2(target.toString(), 0) == 0) {
            return;
        }
        int errno = Native.getLastError();
        if (errno == LinuxSyscalls.EINVAL || errno == LinuxSyscalls.ENOENT) {
            return;
        }
        if (errno == LinuxSyscalls.EBUSY && detachWhenBusy && libc.umount2(target.toString(), LinuxSyscalls.MNT_DETACH) == 0) {
            return;
        }
        throw new CageException(LinuxSyscalls.error("cannot unmount " + what + " at " + target),
                errno == LinuxSyscalls.EBUSY
                        ? "a process still uses it (fuser -vm " + target + " names it); claude-cage gc unmounts it once it is free"
                        : "claude-cage gc unmounts it once the cause is fixed");
    }
}
