package dev.claudecage.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** File-system steps shared by everything that keeps state: private folders and safe removal. */
public final class Directories {

    private Directories() {
    }

    /** Creates the folder (and parents) and makes it 0700: state folders may hold secrets. */
    public static Path createPrivate(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    /** Writes a file that only its owner can read (0600), from the first byte on. */
    public static void writePrivateFile(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /**
     * Removes a tree without following symbolic links and without crossing into a mount point
     * that is still there (deleting through a forgotten mount would delete what it shows), through
     * descriptors ({@link UntrustedDirectory#removeTree}): many trees removed here were written
     * by a cage (its root's upper layer, a persisted home, a --clone copy), whose names must not
     * lead the host anywhere. The path of {@code root}'s folder is trusted.
     */
    public static void deleteRecursively(Path root) throws IOException {
        Path absolute = root.toAbsolutePath().normalize();
        Path parent = absolute.getParent();
        if (parent == null) {
            throw new IOException("refusing to remove " + absolute);
        }
        Path folder;
        try {
            folder = parent.toRealPath();
        } catch (NoSuchFileException gone) {
            return;
        }
        try (UntrustedDirectory directory = UntrustedDirectory.open(folder)) {
            directory.removeTree(absolute.getFileName().toString());
        }
    }
}
