package dev.claudecage.image.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Records of whole builds, one small file per build key (see the builder's {@code BuildRecord}):
 * what a build made and which inputs it read. Written atomically under the store's lock; what
 * they say is checked against the store and the context before it is believed.
 */
public final class BuildRecords {

    private static final Pattern RECORD_NAME = Pattern.compile("[0-9a-f]{64}\\.json");

    private final ImageStore store;
    private final Path directory;

    BuildRecords(ImageStore store, Path directory) {
        this.store = store;
        this.directory = directory;
    }

    /** The record's text, or empty when there is none or it cannot be read (that costs only a build by steps). */
    public Optional<String> lookup(Digest key) {
        Path file = directory.resolve(key.hex() + ".json");
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void record(Digest key, String content) {
        store.writeAtomically(directory.resolve(key.hex() + ".json"), content);
    }

    /** Drops every record: they are small, and a build by steps writes its record again. */
    int dropStale() throws IOException {
        int dropped = 0;
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                if (RECORD_NAME.matcher(file.getFileName().toString()).matches()) {
                    Files.deleteIfExists(file);
                    dropped++;
                }
            }
        }
        return dropped;
    }
}
