package dev.claudecage.image.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Records of whole builds, one small file per build key (see the builder's {@code BuildRecord}):
 * what a build made and which inputs it read. Written atomically under the store's lock; what
 * they say is checked against the store and the context before it is believed.
 */
public final class BuildRecords {

    private final KeyedFiles records;

    BuildRecords(ImageStore store, Path directory) {
        this.records = new KeyedFiles(store, directory);
    }

    /** The record's text, or empty when there is none or it cannot be read (that costs only a build by steps). */
    public Optional<String> lookup(Digest key) {
        return records.read(key);
    }

    public void record(Digest key, String content) {
        records.write(key, content);
    }

    /** Drops every record: they are small, and a build by steps writes its record again. */
    int dropStale() throws IOException {
        return records.removeIf(key -> true);
    }
}
