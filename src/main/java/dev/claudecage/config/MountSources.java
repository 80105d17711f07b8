package dev.claudecage.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Host paths no mount may have, whoever owns them: the host's own system, which is root's in
 * disguise, and anything but a folder or a regular file. The path is checked after it is resolved
 * (a link to /etc is /etc), and compared by file as well as by name, so that a bind mount of a
 * system folder elsewhere (a copy of / at /mnt/root) is the folder it shows.
 */
final class MountSources {

    static final String SYSTEM_REMEDY = "mount a folder of your own work; claude-cage never mounts the host's system "
            + "folders, root's home, /run or its own state, nor a folder that holds one";
    static final String KIND_REMEDY = "mount folders and regular files only; a service the cage needs is reached "
            + "through the network (allowed_hosts)";

    private static final String PROGRAMS = "the host's programs and libraries";
    private static final String KERNEL = "the kernel's view of the host";

    /** The host's own folders and what each is; a mount in one, or holding one, is refused. */
    static final Map<Path, String> SYSTEM_FOLDERS = systemFolders();

    private static Map<Path, String> systemFolders() {
        Map<Path, String> folders = new LinkedHashMap<>();
        folders.put(Path.of("/etc"), "the host's configuration");
        for (String folder : List.of("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")) {
            folders.put(Path.of(folder), PROGRAMS);
        }
        folders.put(Path.of("/boot"), "the host's kernel and boot loader");
        folders.put(Path.of("/root"), "root's home");
        for (String folder : List.of("/proc", "/sys", "/dev")) {
            folders.put(Path.of(folder), KERNEL);
        }
        // /var/run is a link to it.
        folders.put(Path.of("/run"), "the running services' state and sockets (Docker's, containerd's and podman's, "
                + "which are root on the host, and claude-cage's own)");
        return Collections.unmodifiableMap(folders);
    }

    /** The kind of file in the format bits of st_mode. */
    private static final int FORMAT = 0170000;
    private static final int SOCKET = 0140000;
    private static final int FIFO = 0010000;
    private static final int CHARACTER_DEVICE = 0020000;
    private static final int BLOCK_DEVICE = 0060000;
    private static final int DIRECTORY = 0040000;
    private static final int REGULAR_FILE = 0100000;

    private MountSources() {
    }

    /**
     * Why a file of this kind cannot be mounted, or null for a folder or regular file. The text
     * follows "has host path 'P', which ".
     */
    static String kindProblem(int mode) {
        return switch (mode & FORMAT) {
            case DIRECTORY, REGULAR_FILE -> null;
            case SOCKET -> "is a Unix socket: the cage would get whatever service listens on it, with that service's "
                    + "rights and outside the cage (Docker's socket is root on the host)";
            case FIFO -> "is a named pipe: a channel to whatever host process holds its other end";
            case CHARACTER_DEVICE, BLOCK_DEVICE -> "is a device: the host's hardware, which the cage's mounts (nodev) "
                    + "would not open and the cage must never reach";
            default -> "is neither a folder nor a regular file (file type " + Integer.toOctalString(mode & FORMAT) + ")";
        };
    }

    /**
     * Why the resolved path {@code real} reaches a refused folder, or null when it does not. The
     * text follows "has host path 'P', which ".
     *
     * @param refused the folders and what each is
     * @param fileKey the identity of an existing file (device and inode), null for a missing one
     */
    static String folderProblem(Path real, Map<Path, String> refused, Function<Path, Object> fileKey) {
        for (Map.Entry<Path, String> folder : refused.entrySet()) {
            if (real.startsWith(folder.getKey())) {
                return (real.equals(folder.getKey()) ? "is " : "lies in ") + folder.getKey() + ", " + folder.getValue();
            }
            if (folder.getKey().startsWith(real)) {
                return "holds " + folder.getKey() + ", " + folder.getValue();
            }
        }
        // Through a bind mount the name says nothing: compare the files themselves.
        Map<Path, Object> realAndAbove = new LinkedHashMap<>();
        for (Path at = real; at != null; at = at.getParent()) {
            realAndAbove.put(at, fileKey.apply(at));
        }
        Object key = realAndAbove.get(real);
        for (Map.Entry<Path, String> folder : refused.entrySet()) {
            Object folderKey = fileKey.apply(folder.getKey());
            if (folderKey == null) {
                continue;
            }
            for (Map.Entry<Path, Object> at : realAndAbove.entrySet()) {
                if (folderKey.equals(at.getValue())) {
                    return (at.getKey().equals(real) ? "is " : "lies in " + at.getKey() + ", which is ") + folder.getKey()
                            + " mounted again, " + folder.getValue();
                }
            }
            for (Path above = folder.getKey().getParent(); above != null; above = above.getParent()) {
                if (key != null && key.equals(fileKey.apply(above))) {
                    return "is " + above + " mounted again, so it holds " + folder.getKey() + ", " + folder.getValue();
                }
            }
        }
        return null;
    }
}
