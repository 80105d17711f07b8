package dev.claudecage.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.Consumer;

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

    /** Writes a file that only its owner can read (0600, from the first byte on), in one step ({@link #writeAtomically}). */
    public static void writePrivateFile(Path file, String content) throws IOException {
        writeAtomically(file, content.getBytes(StandardCharsets.UTF_8), "rw-------");
    }

    /**
     * Replaces {@code file} with {@code content} in one step: a temporary file beside it, made with
     * {@code permissions} (as {@code ls} shows them, "rw-r--r--") from its first byte, synced, then
     * renamed over it. A reader sees the old content or the new, never half of either, even after a
     * crash; a link at {@code file} is replaced, never followed.
     */
    public static void writeAtomically(Path file, byte[] content, String permissions) throws IOException {
        Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp-" + RandomNames.hex(6));
        try {
            try (FileChannel channel = FileChannel.open(temporary, Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)))) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + file.getParent() + " cannot rename atomically", e);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
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

    /**
     * {@link #deleteRecursively(Path)} for a temporary folder whose leftover does no harm (gc or the next
     * run removes it): a failure is told to {@code onFailure} as "could not remove ROOT: why", not thrown,
     * so that it neither hides the error that ended the work nor fails work that succeeded.
     */
    public static void deleteRecursively(Path root, Consumer<String> onFailure) {
        try {
            deleteRecursively(root);
        } catch (IOException e) {
            onFailure.accept("could not remove " + root + ": " + e.getMessage());
        }
    }
}
