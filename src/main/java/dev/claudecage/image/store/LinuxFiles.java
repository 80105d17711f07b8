package dev.claudecage.image.store;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The few file-system calls Java has no API for, through libc: extended attributes in every
 * namespace (overlayfs keeps opaque directories in {@code trusted.overlay.opaque}, or
 * {@code user.overlay.opaque} in a user namespace, see {@link OverlayAttributes}; file
 * capabilities live in {@code security.capability}) and device nodes (a whiteout is a 0/0
 * character device). None of them follow symbolic links.
 */
public final class LinuxFiles {

    /**
     * Where overlayfs keeps its own attributes (the opaque mark on a directory that hides everything
     * below it, among them). Root's overlays use {@code trusted.overlay.*}. A user namespace cannot
     * set trusted attributes, and an overlay mounted there without {@code userxattr} silently ignores
     * them (a directory a layer made opaque shows the lower layers' files again), so a rootless
     * user's store and overlays use {@code user.overlay.*}, mounted with {@code userxattr}.
     */
    public enum OverlayAttributes {
        TRUSTED("trusted.overlay."), USER("user.overlay.");

        private final String prefix;

        OverlayAttributes(String prefix) {
            this.prefix = prefix;
        }

        public String prefix() {
            return prefix;
        }

        /** The attribute that marks a directory opaque. */
        public String opaque() {
            return prefix + "opaque";
        }

        /** The mount options that make overlayfs use these attributes, with a trailing comma, or "". */
        public String mountOptions() {
            return this == USER ? "userxattr," : "";
        }
    }

    /**
     * The attributes for overlays mounted, and layers written, by this process: {@code USER} in a
     * rootless user's namespace (where image commands run again, see NamespaceReexec), else {@code TRUSTED}.
     */
    public static OverlayAttributes overlayAttributesHere() {
        return dev.claudecage.rootless.NamespaceReexec.owner().isPresent() ? OverlayAttributes.USER
                : OverlayAttributes.TRUSTED;
    }

    private static final int S_IFCHR = 0020000;
    private static final int ERANGE = 34;
    private static final int ENODATA = 61;
    private static final int ENOTSUP = 95;

    private interface LibC extends Library {
        long llistxattr(String path, byte[] list, long size) throws LastErrorException;

        long lgetxattr(String path, String name, byte[] value, long size) throws LastErrorException;

        int lsetxattr(String path, String name, byte[] value, long size, int flags) throws LastErrorException;

        int mknod(String path, int mode, long device) throws LastErrorException;
    }

    private static final class Holder {
        static final LibC LIBC = Native.load("c", LibC.class);
    }

    private LinuxFiles() {
    }

    /** The names of a file's extended attributes, sorted. */
    public static List<String> xattrNames(Path path) throws IOException {
        byte[] buffer = new byte[1024];
        while (true) {
            long length;
            try {
                length = Holder.LIBC.llistxattr(path.toString(), buffer, buffer.length);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == ERANGE) {
                    buffer = new byte[buffer.length * 4];
                    continue;
                }
                if (e.getErrorCode() == ENOTSUP) {
                    return List.of();
                }
                throw failure("list extended attributes of", path, e);
            }
            List<String> names = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < length; i++) {
                if (buffer[i] == 0) {
                    names.add(new String(buffer, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            names.sort(null);
            return names;
        }
    }

    /** One attribute's value, or null when the file does not have it. */
    public static byte[] xattr(Path path, String name) throws IOException {
        byte[] buffer = new byte[256];
        while (true) {
            try {
                long length = Holder.LIBC.lgetxattr(path.toString(), name, buffer, buffer.length);
                return Arrays.copyOf(buffer, (int) length);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == ERANGE) {
                    buffer = new byte[buffer.length * 16];
                    continue;
                }
                if (e.getErrorCode() == ENODATA || e.getErrorCode() == ENOTSUP) {
                    return null;
                }
                throw failure("read extended attribute " + name + " of", path, e);
            }
        }
    }

    public static void setXattr(Path path, String name, byte[] value) throws IOException {
        try {
            Holder.LIBC.lsetxattr(path.toString(), name, value, value.length, 0);
        } catch (LastErrorException e) {
            throw failure("set extended attribute " + name + " on", path, e);
        }
    }

    /** An overlayfs whiteout: a 0/0 character device that hides the same name in lower layers. */
    public static void createWhiteout(Path path) throws IOException {
        try {
            Holder.LIBC.mknod(path.toString(), S_IFCHR, 0L);
        } catch (LastErrorException e) {
            throw failure("create the whiteout", path, e);
        }
    }

    private static IOException failure(String what, Path path, LastErrorException e) {
        return new IOException("cannot " + what + " " + path + ": errno " + e.getErrorCode() + " (" + e.getMessage() + ")");
    }
}
