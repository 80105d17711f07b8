package dev.claudecage.image.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The content address of a layer directory: a sha256 over a canonical listing of every entry,
 * in byte order of its path, with its type, mode (setuid bits included), owner, modification
 * time, extended attributes (so opaque directories and file capabilities count) and its
 * content, link target or device number. Two directories get the same digest exactly when a
 * cage would see the same files.
 */
public final class LayerDigest {

    private static final int BUFFER = 1 << 20;

    private LayerDigest() {
    }

    /** The digest and the layer's size in bytes (regular files' lengths). */
    public record Result(Digest digest, long size) {
    }

    public static Result of(Path directory) throws IOException {
        MessageDigest listing = Digest.sha256();
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
        long size = 0;
        List<Path> entries;
        try (Stream<Path> walk = Files.walk(directory)) {
            entries = new ArrayList<>(walk.filter(path -> !path.equals(directory)).toList());
        }
        entries.sort((a, b) -> compareBytes(relative(directory, a), relative(directory, b)));
        for (Path entry : entries) {
            Map<String, Object> attributes = Files.readAttributes(entry, "unix:*", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) attributes.get("mode");
            StringBuilder line = new StringBuilder()
                    .append(relative(directory, entry)).append('\0')
                    .append(Integer.toOctalString(mode)).append('\0')
                    .append(attributes.get("uid")).append(':').append(attributes.get("gid")).append('\0')
                    .append(((FileTime) attributes.get("lastModifiedTime")).toMillis() / 1000).append('\0');
            for (String name : LinuxFiles.xattrNames(entry)) {
                line.append(name).append('=').append(HexFormat.of().formatHex(LinuxFiles.xattr(entry, name))).append(';');
            }
            line.append('\0');
            if (Files.isSymbolicLink(entry)) {
                line.append(Files.readSymbolicLink(entry));
            } else if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                long length = (Long) attributes.get("size");
                size += length;
                line.append(length).append(':').append(contentHash(entry, buffer));
            } else if (!Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                line.append(attributes.get("rdev"));
            }
            listing.update(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
        }
        return new Result(new Digest(HexFormat.of().formatHex(listing.digest())), size);
    }

    /** The sha256 of a regular file's content, in hex. */
    public static String contentHash(Path file) throws IOException {
        return contentHash(file, ByteBuffer.allocate(BUFFER));
    }

    private static String contentHash(Path file, ByteBuffer buffer) throws IOException {
        MessageDigest content = Digest.sha256();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            buffer.clear();
            while (channel.read(buffer) > 0) {
                buffer.flip();
                content.update(buffer);
                buffer.clear();
            }
        }
        return HexFormat.of().formatHex(content.digest());
    }

    private static String relative(Path directory, Path entry) {
        return directory.relativize(entry).toString();
    }

    private static int compareBytes(String a, String b) {
        return java.util.Arrays.compare(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
