package dev.claudecage.image.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * Paths inside an image's root, resolved on the host the way the image itself would see them:
 * symbolic links are followed with the image root as "/", and ".." never climbs above it. An
 * image can hold links to anywhere ({@code /bin -> usr/bin}, or a hostile {@code /x -> /etc});
 * the builder reads and writes through the mounted root only via this class, so nothing it
 * does lands on the host's own files.
 */
public final class RootedPath {

    private static final int MAX_LINKS = 40;

    private RootedPath() {
    }

    /**
     * The host path of {@code path} (absolute, in the image) under {@code root}, following links
     * in every component; the last one too unless {@code followLast} is false. Components that
     * do not exist are kept as they are.
     */
    public static Path resolve(Path root, String path, boolean followLast) throws IOException {
        Deque<String> pending = new ArrayDeque<>(components(path));
        Deque<String> resolved = new ArrayDeque<>();
        int links = 0;
        while (!pending.isEmpty()) {
            String component = pending.removeFirst();
            if (component.equals("..")) {
                resolved.pollLast();
                continue;
            }
            Path candidate = join(root, resolved).resolve(component);
            boolean last = pending.isEmpty();
            if ((!last || followLast) && Files.isSymbolicLink(candidate)) {
                if (++links > MAX_LINKS) {
                    throw new IOException("too many levels of symbolic links resolving " + path + " in the image");
                }
                String target = Files.readSymbolicLink(candidate).toString();
                if (target.startsWith("/")) {
                    resolved.clear();
                }
                Deque<String> rest = new ArrayDeque<>(components(target));
                rest.addAll(pending);
                pending = rest;
                continue;
            }
            resolved.addLast(component);
        }
        return join(root, resolved);
    }

    /** Whether {@code path} is, in the image, a directory (through links). */
    public static boolean isDirectory(Path root, String path) throws IOException {
        return Files.isDirectory(resolve(root, path, true), LinkOption.NOFOLLOW_LINKS);
    }

    private static java.util.List<String> components(String path) {
        return Arrays.stream(path.split("/")).filter(part -> !part.isEmpty() && !part.equals(".")).toList();
    }

    private static Path join(Path root, Deque<String> components) {
        Path result = root;
        for (String component : components) {
            result = result.resolve(component);
        }
        return result;
    }
}
