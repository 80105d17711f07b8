package dev.claudecage.image.build;

import dev.claudecage.image.dockerfile.DockerIgnore;
import dev.claudecage.image.dockerfile.PathPattern;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.LayerDigest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where COPY and ADD read from: the build context (minus what {@code .dockerignore} leaves out),
 * or the root of an earlier stage or an image for {@code COPY --from}. Paths here are relative to
 * the tree and '/'-separated; "" is the tree's root. A source cannot leave the tree, not even
 * through a symbolic link: links resolve with the tree as "/".
 */
final class SourceTree {

    private final Path root;
    private final DockerIgnore ignore;
    private final String description;

    private SourceTree(Path root, DockerIgnore ignore, String description) {
        this.root = root.toAbsolutePath().normalize();
        this.ignore = ignore;
        this.description = description;
    }

    static SourceTree context(Path directory) {
        return new SourceTree(directory, DockerIgnore.of(directory), "the build context " + directory);
    }

    static SourceTree imageRoot(Path mountedRoot, String description) {
        return new SourceTree(mountedRoot, DockerIgnore.none(), description);
    }

    private boolean excluded(String relative) {
        return !relative.isEmpty() && ignore.excludes(relative);
    }

    /**
     * The entries COPY sources name, in a stable order. As in Docker, a pattern may match
     * nothing, but a plain path must exist, and all sources together must name something.
     */
    List<String> match(List<String> sources) throws IOException {
        return matchEach(sources).stream().flatMap(List::stream).toList();
    }

    /** {@link #match}, source by source: the i-th list holds what the i-th source names. */
    List<List<String>> matchEach(List<String> sources) throws IOException {
        List<List<String>> matches = new ArrayList<>();
        for (String source : sources) {
            String cleaned = clean(source);
            if (PathPattern.hasWildcards(cleaned)) {
                matches.add(matchPattern(cleaned));
                continue;
            }
            Path resolved = RootedPath.resolve(root, cleaned, true);
            String relative = relative(resolved);
            if (!Files.exists(resolved, LinkOption.NOFOLLOW_LINKS) || excluded(relative)) {
                throw new IllegalArgumentException("'" + source + "' is not in " + description
                        + (ignore == DockerIgnore.none() ? "" : " (or .dockerignore leaves it out)"));
            }
            matches.add(List.of(relative));
        }
        if (matches.stream().allMatch(List::isEmpty)) {
            throw new IllegalArgumentException("no file in " + description + " matches " + sources);
        }
        return matches;
    }

    /** Walks only below the pattern's fixed leading directories, and only as deep as the pattern goes. */
    private List<String> matchPattern(String pattern) throws IOException {
        String[] parts = pattern.split("/");
        int fixed = 0;
        while (fixed < parts.length - 1 && !PathPattern.hasWildcards(parts[fixed])) {
            fixed++;
        }
        String prefix = String.join("/", Arrays.copyOf(parts, fixed));
        Path start = RootedPath.resolve(root, prefix, true);
        if (!Files.isDirectory(start, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        PathPattern glob = PathPattern.glob(pattern);
        // The glob matches the path as written; the entry is where it really is (a link in the prefix may move it).
        try (Stream<Path> walk = Files.walk(start, parts.length - fixed)) {
            return walk.map(path -> {
                String below = start.relativize(path).toString();
                return new String[] {prefix.isEmpty() ? below : below.isEmpty() ? prefix : prefix + "/" + below,
                        relative(path)};
            }).filter(names -> !names[0].isEmpty() && glob.matches(names[0]) && !excluded(names[1]))
                    .map(names -> names[1]).sorted().toList();
        }
    }

    /** A source as a path in the tree: a leading '/' means the tree's root, and ".." may not leave it. */
    static String clean(String source) {
        String withoutRoot = source.replaceFirst("^/+", "");
        Path normalized = Path.of(withoutRoot.isEmpty() ? "." : withoutRoot).normalize();
        if (normalized.startsWith("..")) {
            throw new IllegalArgumentException("'" + source + "' is outside the build context");
        }
        String cleaned = normalized.toString();
        return cleaned.equals(".") ? "" : cleaned;
    }

    Path hostPath(String relative) {
        return relative.isEmpty() ? root : root.resolve(relative);
    }

    /** Every kept entry under {@code relative} (itself included), parents before children. */
    List<String> tree(String relative) throws IOException {
        Path start = hostPath(relative);
        if (!Files.isDirectory(start, LinkOption.NOFOLLOW_LINKS)) {
            return List.of(relative);
        }
        try (Stream<Path> walk = Files.walk(start)) {
            return walk.map(this::relative).filter(rel -> !excluded(rel)).sorted().toList();
        }
    }

    /**
     * What the cache key sees of these sources: each kept entry's path, type, permission bits,
     * and content or link target. Times and owners are left out: COPY sets the owner, and a
     * fresh checkout of the same files must hit the cache.
     */
    Digest hash(List<String> sources) throws IOException {
        MessageDigest digest = Digest.sha256();
        for (String source : sources) {
            for (String relative : tree(source)) {
                Path path = hostPath(relative);
                StringBuilder line = new StringBuilder(relative).append('\0');
                if (Files.isSymbolicLink(path)) {
                    line.append("link ").append(Files.readSymbolicLink(path));
                } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    line.append("dir ").append(permissions(path));
                } else {
                    line.append("file ").append(permissions(path)).append(' ').append(LayerDigest.contentHash(path));
                }
                digest.update(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return new Digest(HexFormat.of().formatHex(digest.digest()));
    }

    private static String permissions(Path path) throws IOException {
        return Integer.toOctalString((Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777);
    }

    private String relative(Path path) {
        return root.relativize(path).toString();
    }
}
