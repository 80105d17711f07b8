package dev.claudecage.image.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The build cache: for each step key (see the builder's {@code StepKey}), what the step produced.
 * An entry whose layer has been pruned is a miss. Entries are small JSON files written atomically.
 */
public final class BuildCache {

    /** @param layer the layer the step made, or null for a step that changes only the settings */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Entry(Digest layer, String created) {
    }

    private final ImageStore store;
    private final KeyedFiles entries;

    BuildCache(ImageStore store, Path directory) {
        this.store = store;
        this.entries = new KeyedFiles(store, directory);
    }

    public Optional<Entry> lookup(Digest key) {
        Optional<String> text = entries.read(key);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Entry entry;
        try {
            entry = Json.read(text.get(), Entry.class);
        } catch (UncheckedIOException e) {
            // A damaged entry only costs a rebuild of its step.
            return Optional.empty();
        }
        return entry.layer() == null || store.hasLayer(entry.layer()) ? Optional.of(entry) : Optional.empty();
    }

    public void record(Digest key, Entry entry) {
        entries.write(key, Json.write(entry));
    }

    /** Drops the entries whose layer is gone; returns how many. */
    int dropStale() throws IOException {
        return entries.removeIf(key -> lookup(key).isEmpty());
    }
}
