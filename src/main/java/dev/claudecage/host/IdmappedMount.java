package dev.claudecage.host;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import dev.claudecage.CageException;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A bind mount of a host folder whose file ownership is shifted: the cage's user (uid 1000)
 * reads and writes it as if it owned it, and what it creates belongs on disk to the host user
 * who owns the work. The cage's processes keep their own ids; only this one mount is shifted,
 * so nothing else on the host sees the mapping.
 * <p>
 * The kernel needs a user namespace that holds the mapping; a short-lived {@code unshare}
 * process provides it while the mount is set up. runc 1.1 cannot make idmapped mounts itself,
 * so the mount is prepared here, detached and shifted, and runc bind-mounts the result, which
 * keeps the shift.
 */
public final class IdmappedMount implements AutoCloseable {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final Path target;
    private final ProcessRunner runner;

    private IdmappedMount(Path target, ProcessRunner runner) {
        this.target = target;
        this.runner = runner;
    }

    /**
     * Mounts {@code source}, a folder or a regular file, at {@code target} (an empty folder or file
     * it creates) with the cage's ids {@code cageUid} / {@code cageGid} shown for, and writing as,
     * {@code hostUser}.
     */
    public static IdmappedMount create(Path source, Path target, int cageUid, int cageGid, HostIds hostUser,
                                       ProcessRunner runner) {
        if (!"amd64".equals(System.getProperty("os.arch"))) {
            throw new CageException("shifted workspace mounts need x86_64 system call numbers on this version");
        }
        Process holder = runner.startBackground(List.of("unshare", "--user", "sh", "-c", "echo ready; exec sleep 60"));
        try {
            awaitReady(holder);
            // Inside the namespace, the host user stands for the cage's: the mount shows their files as the
            // cage's, and stores what the cage creates as theirs. Written by us, root, so no subuid
            // delegation is needed.
            Files.writeString(Path.of("/proc/" + holder.pid() + "/uid_map"), hostUser.uid() + " " + cageUid + " 1\n");
            Files.writeString(Path.of("/proc/" + holder.pid() + "/gid_map"), hostUser.gid() + " " + cageGid + " 1\n");
            int usernsFd = open("/proc/" + holder.pid() + "/ns/user");
            try {
                createMountPoint(source, target);
                shift(source, target, usernsFd);
            } finally {
                LinuxSyscalls.get().close(usernsFd);
            }
            return new IdmappedMount(target, runner);
        } catch (IOException e) {
            throw new CageException("cannot prepare the mount point " + target + ": " + e.getMessage());
        } finally {
            holder.destroyForcibly();
        }
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

    private static void shift(Path source, Path target, int usernsFd) {
        // The source was resolved when the configuration was checked; a link there now is not followed.
        int tree = syscall(LinuxSyscalls.SYS_OPEN_TREE, "open_tree " + source, LinuxSyscalls.AT_FDCWD,
                source.toString(), LinuxSyscalls.OPEN_TREE_CLONE | LinuxSyscalls.O_CLOEXEC
                        | LinuxSyscalls.AT_SYMLINK_NOFOLLOW);
        try {
            Memory attr = new Memory(LinuxSyscalls.MOUNT_ATTR_SIZE);
            attr.clear();
            attr.setLong(0, LinuxSyscalls.MOUNT_ATTR_IDMAP);
            attr.setLong(24, usernsFd);
            syscall(LinuxSyscalls.SYS_MOUNT_SETATTR, "mount_setattr(MOUNT_ATTR_IDMAP) on " + source
                    + " (its file system may not support shifted mounts)", tree, "", LinuxSyscalls.AT_EMPTY_PATH, attr,
                    (long) LinuxSyscalls.MOUNT_ATTR_SIZE);
            syscall(LinuxSyscalls.SYS_MOVE_MOUNT, "move_mount to " + target, tree, "", LinuxSyscalls.AT_FDCWD,
                    target.toString(), LinuxSyscalls.MOVE_MOUNT_F_EMPTY_PATH);
        } finally {
            LinuxSyscalls.get().close(tree);
        }
    }

    private static int syscall(long number, String what, Object... args) {
        long result = LinuxSyscalls.get().syscall(new NativeLong(number), args).longValue();
        if (result < 0) {
            throw new CageException(LinuxSyscalls.error(what + " failed"));
        }
        return (int) result;
    }

    private static int open(String path) {
        int fd = LinuxSyscalls.get().open(path, LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_CLOEXEC);
        if (fd < 0) {
            throw new CageException(LinuxSyscalls.error("cannot open " + path));
        }
        return fd;
    }

    private static void awaitReady(Process holder) throws IOException {
        byte[] ready = new byte[6];
        int read = holder.getInputStream().readNBytes(ready, 0, ready.length);
        if (read < ready.length) {
            throw new CageException("cannot create the user namespace for a shifted mount: "
                    + new String(holder.getErrorStream().readAllBytes()).strip(),
                    "the kernel must allow user namespaces (see /proc/sys/user/max_user_namespaces)");
        }
    }

    public Path target() {
        return target;
    }

    @Override
    public void close() {
        runner.remove(List.of("umount", target.toString()), TIMEOUT);
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            throw new CageException("cannot remove " + target + ": " + e.getMessage());
        }
    }
}
