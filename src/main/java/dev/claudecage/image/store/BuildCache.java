package dev.claudecage.image.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
    private final Path directory;

    BuildCache(ImageStore store, Path directory) {
        this.store = store;
        this.directory = directory;
    }

    public Optional<Entry> lookup(Digest key) {
        Path file = directory.resolve(key.hex() + ".json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Entry entry;
        try {
            entry = Json.read(Files.readString(file), Entry.class);
        } catch (IOException | UncheckedIOException e) {
            // A damaged entry only costs a rebuild of its step.
            return Optional.empty();
        }
        return entry.layer() == null || store.hasLayer(entry.layer()) ? Optional.of(entry) : Optional.empty();
    }

    public void record(Digest key, Entry entry) {
        store.writeAtomically(directory.resolve(key.hex() + ".json"), Json.write(entry));
    }

    /** Drops the entries whose layer is gone; returns how many. */
    int dropStale() throws IOException {
        int dropped = 0;
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.matches("[0-9a-f]{64}\\.json") && lookup(new Digest(name.substring(0, 64))).isEmpty()) {
                    Files.deleteIfExists(file);
                    dropped++;
                }
            }
        }
        return dropped;
    }
}
