package dev.claudecage.image.store;

import com.sun.jna.Native;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.host.StateLayout;

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
        return StateLayout.namespaceOwner().isPresent() ? OverlayAttributes.USER : OverlayAttributes.TRUSTED;
    }


    private LinuxFiles() {
    }

    /** The names of a file's extended attributes, sorted. */
    public static List<String> xattrNames(Path path) throws IOException {
        byte[] buffer = new byte[1024];
        while (true) {
            long length = LinuxSyscalls.get().llistxattr(path.toString(), buffer, buffer.length);
            if (length < 0) {
                int errno = Native.getLastError();
                if (errno == LinuxSyscalls.ERANGE) {
                    buffer = new byte[buffer.length * 4];
                    continue;
                }
                if (errno == LinuxSyscalls.ENOTSUP) {
                    return List.of();
                }
                throw failure("list extended attributes of", path);
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
            long length = LinuxSyscalls.get().lgetxattr(path.toString(), name, buffer, buffer.length);
            if (length >= 0) {
                return Arrays.copyOf(buffer, (int) length);
            }
            int errno = Native.getLastError();
            if (errno == LinuxSyscalls.ERANGE) {
                buffer = new byte[buffer.length * 16];
                continue;
            }
            if (errno == LinuxSyscalls.ENODATA || errno == LinuxSyscalls.ENOTSUP) {
                return null;
            }
            throw failure("read extended attribute " + name + " of", path);
        }
    }

    public static void setXattr(Path path, String name, byte[] value) throws IOException {
        if (LinuxSyscalls.get().lsetxattr(path.toString(), name, value, value.length, 0) != 0) {
            throw failure("set extended attribute " + name + " on", path);
        }
    }

    /** An overlayfs whiteout: a 0/0 character device that hides the same name in lower layers. */
    public static void createWhiteout(Path path) throws IOException {
        if (LinuxSyscalls.get().mknod(path.toString(), LinuxSyscalls.S_IFCHR, 0L) != 0) {
            throw failure("create the whiteout", path);
        }
    }

    /** For the call that just failed. */
    private static IOException failure(String what, Path path) {
        return new IOException(LinuxSyscalls.error("cannot " + what + " " + path));
    }
}
