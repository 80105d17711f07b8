package dev.claudecage.image.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A folder of small JSON files, each named by a key's hex digest and written atomically through the
 * store: the build cache's step entries and the records of whole builds. A file that is missing, not
 * a regular file or unreadable reads as no file, which costs only a build by steps.
 */
final class KeyedFiles {

    private static final Pattern NAME = Pattern.compile("[0-9a-f]{64}\\.json");

    private final ImageStore store;
    private final Path directory;

    KeyedFiles(ImageStore store, Path directory) {
        this.store = store;
        this.directory = directory;
    }

    Optional<String> read(Digest key) {
        Path file = file(key);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    void write(Digest key, String content) {
        store.writeAtomically(file(key), content);
    }

    /** Removes the files whose key is {@code stale}; returns how many. */
    int removeIf(Predicate<Digest> stale) throws IOException {
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        int removed = 0;
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (NAME.matcher(name).matches() && stale.test(new Digest(name.substring(0, 64)))) {
                    Files.deleteIfExists(file);
                    removed++;
                }
            }
        }
        return removed;
    }

    private Path file(Digest key) {
        return directory.resolve(key.hex() + ".json");
    }
}
