package dev.claudecage.host;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * A bind mount of a host folder or file whose file ownership is shifted by a user namespace's id
 * map: what is stored as one id shows, to the cage, as another, and what the cage writes is stored
 * back under the first. Only this mount is shifted, so nothing else on the host sees the mapping.
 * <p>
 * runc 1.1 cannot make idmapped mounts itself, so they are prepared here, detached and shifted
 * ({@code open_tree(OPEN_TREE_CLONE)}, {@code mount_setattr(MOUNT_ATTR_IDMAP)}), then put in place
 * ({@code move_mount}); runc bind-mounts the result, which keeps the shift, and overlayfs takes
 * such mounts as its layers. {@link #unshifted} makes the same detached copy without the shift.
 */
public final class IdmappedMount implements AutoCloseable {

    /** The kernel, or the source's file system, cannot shift mounts: the caller may do without. */
    public static final class Unsupported extends CageException {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message, "claude-cage doctor says what this host supports");
        }
    }

    private static final int NOT_SHIFTED = -1;

    private final Path target;
    private boolean mounted = true;

    private IdmappedMount(Path target) {
        this.target = target;
    }

    /**
     * Mounts {@code source}, a folder or a regular file, at {@code target} (an empty folder or file it
     * creates), shifted by the id map of the user namespace open as {@code usernsFd}.
     *
     * @throws Unsupported when the kernel or the source's file system refuses to shift it
     */
    public static IdmappedMount create(Path source, Path target, int usernsFd) {
        return create(source, target, usernsFd, 0);
    }

    /** {@link #create}, the copy also given the mount attributes {@code attributes} (MOUNT_ATTR_RDONLY and the like). */
    public static IdmappedMount create(Path source, Path target, int usernsFd, long attributes) {
        try {
            createMountPoint(source, target);
        } catch (IOException e) {
            throw new CageException("cannot prepare the mount point " + target + ": " + e.getMessage());
        }
        attach(source, target, usernsFd, attributes);
        return new IdmappedMount(target);
    }

    /**
     * Mounts {@code source}, a folder or a regular file, at {@code target} as it is, unshifted: a copy
     * of its mount (with the mounts below it when {@code recursive}), so that what reaches {@code target}
     * reaches the source's tree without passing through the source's parent folders. runsc's file server
     * opens the cage's binds from the cage's user namespace, which those folders may shut out
     * ({@code runtime/CageIdentity#stageForTheFileServer}). The copy gets the mount attributes
     * {@code attributes} (MOUNT_ATTR_RDONLY and the like) from the kernel, so that a read-only bind stays
     * read-only to the file server itself, not only by gVisor's word.
     */
    public static IdmappedMount unshifted(Path source, Path target, boolean recursive, long attributes) {
        try {
            createMountPoint(source, target);
        } catch (IOException e) {
            throw new CageException("cannot prepare the mount point " + target + ": " + e.getMessage());
        }
        int flags = recursive ? LinuxSyscalls.AT_RECURSIVE : 0;
        LinuxSyscalls libc = LinuxSyscalls.get();
        long tree = clone(source, flags);
        try {
            if (attributes != 0) {
                setAttributes(source, tree, flags, attributes, NOT_SHIFTED, "mount_setattr");
            }
            moveTo(tree, target);
        } finally {
            libc.close((int) tree);
        }
        return new IdmappedMount(target);
    }

    /** A mount point of the source's kind: the kernel mounts a folder on a folder and a file on a file only. */
    private static void createMountPoint(Path source, Path target) throws IOException {
        if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(target);
        } else if (Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(target.getParent());
            Files.createFile(target);
        } else {
            throw new CageException("cannot shift " + source + ": only a folder or a regular file can be mounted");
        }
    }

    /**
     * Whether {@code source} can be shifted here: the same steps as {@link #create}, short of putting
     * the mount anywhere (claude-cage doctor).
     *
     * @throws Unsupported when it cannot
     */
    public static void check(Path source, int usernsFd) {
        LinuxSyscalls libc = LinuxSyscalls.get();
        long tree = clone(source, 0);
        try {
            setIdmap(source, tree, usernsFd);
        } finally {
            libc.close((int) tree);
        }
    }

    private static long clone(Path source, int flags) {
        // The source was resolved when the configuration was checked; a link there now is not followed.
        return syscall(LinuxSyscalls.SYS_OPEN_TREE, "open_tree " + source, LinuxSyscalls.AT_FDCWD, source.toString(),
                LinuxSyscalls.OPEN_TREE_CLONE | LinuxSyscalls.O_CLOEXEC | LinuxSyscalls.AT_SYMLINK_NOFOLLOW | flags);
    }

    /** Clones {@code source}'s mount, shifts it by {@code usernsFd}'s map, and moves it to {@code target}. */
    private static void attach(Path source, Path target, int usernsFd, long attributes) {
        LinuxSyscalls libc = LinuxSyscalls.get();
        long tree = clone(source, 0);
        try {
            setAttributes(source, tree, 0, LinuxSyscalls.MOUNT_ATTR_IDMAP | attributes, usernsFd,
                    "mount_setattr(MOUNT_ATTR_IDMAP)");
            moveTo(tree, target);
        } finally {
            libc.close((int) tree);
        }
    }

    private static void moveTo(long tree, Path target) {
        syscall(LinuxSyscalls.SYS_MOVE_MOUNT, "move_mount to " + target, (int) tree, "", LinuxSyscalls.AT_FDCWD,
                target.toString(), LinuxSyscalls.MOVE_MOUNT_F_EMPTY_PATH);
    }

    private static void setIdmap(Path source, long tree, int usernsFd) {
        setAttributes(source, tree, 0, LinuxSyscalls.MOUNT_ATTR_IDMAP, usernsFd, "mount_setattr(MOUNT_ATTR_IDMAP)");
    }

    private static void setAttributes(Path source, long tree, int flags, long attributes, int usernsFd, String call) {
        LinuxSyscalls libc = LinuxSyscalls.get();
        Memory attr = new Memory(LinuxSyscalls.MOUNT_ATTR_SIZE);
        attr.clear();
        attr.setLong(0, attributes);
        if (usernsFd != NOT_SHIFTED) {
            attr.setLong(24, usernsFd);
        }
        long result = libc.syscall(new NativeLong(LinuxSyscalls.SYS_MOUNT_SETATTR), (int) tree, "",
                LinuxSyscalls.AT_EMPTY_PATH | flags, attr, (long) LinuxSyscalls.MOUNT_ATTR_SIZE).longValue();
        if (result < 0) {
            int errno = Native.getLastError();
            String what = call + " on " + source + ": " + libc.strerror(errno) + " (errno " + errno + ")";
            if ((attributes & LinuxSyscalls.MOUNT_ATTR_IDMAP) != 0
                    && (errno == LinuxSyscalls.EINVAL || errno == LinuxSyscalls.ENOSYS || errno == LinuxSyscalls.EPERM)) {
                throw new Unsupported(what + ": this kernel, or the file system of " + source
                        + ", cannot make idmapped mounts");
            }
            throw new CageException(what);
        }
    }

    private static long syscall(long number, String what, Object... args) {
        long result = LinuxSyscalls.get().syscall(new NativeLong(number), args).longValue();
        if (result < 0) {
            throw new CageException(LinuxSyscalls.error(what + " failed"));
        }
        return result;
    }

    public Path target() {
        return target;
    }

    /**
     * Unmounts it, lazily if it is busy, and removes the mount point. What was mounted on top of it
     * earlier (an overlay that took it as a layer) keeps its own copy.
     */
    @Override
    public void close() {
        if (mounted) {
            Mounts.SYSTEM_CALLS.unmount(target, true, "an idmapped mount");
            mounted = false;
        }
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            throw new CageException("cannot remove " + target + ": " + e.getMessage());
        }
    }
}
