package dev.claudecage.image.build;

import com.fasterxml.jackson.core.JsonParser;
import dev.claudecage.CageException;
import dev.claudecage.image.store.Architecture;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What one whole build made, and every input it read beyond its key: a rebuild whose inputs are
 * all unchanged is answered with the recorded image at once, without the object mapper and
 * without walking the steps. The key ({@link #key}) holds what is known before the build reads
 * anything: the Dockerfile's text, the build args, the host's architecture and the builder
 * itself. The record holds the rest, each checked again before the record is believed:
 * <ul>
 *   <li>every image the build looked up in the store (FROM, COPY --from, RUN --mount from=),
 *       with the id it found, or none;</li>
 *   <li>every set of context sources that COPY, ADD or a bind mount read, with the content hash
 *       the step's cache key holds ({@link SourceTree#hash}: paths, types, modes, contents, link
 *       targets; read the same way, never through a link);</li>
 *   <li>the image and its layers, which must still be in the store.</li>
 * </ul>
 * Together with the key these decide every step's cache key, so a record that checks out names
 * the image the build by steps would make from the cache. A build that read something no check
 * can see again (ADD of a URL without --checksum) writes no record. Secrets are left out, as
 * from the steps' keys.
 *
 * @param image        the image the build made
 * @param layers       its layers, as its config lists them
 * @param steps        each step's description, for the progress lines
 * @param unusedArgs   the build args no ARG declared, for the warning
 * @param lookups      each store reference the build looked up, and the id it found ("" for none)
 * @param contextReads each set of context sources a step read, and its content hash
 */
record BuildRecord(Digest image, List<Digest> layers, List<String> steps, List<String> unusedArgs,
                   Map<String, String> lookups, List<ContextRead> contextReads) {

    /** Raised with the format, so that an older record is never read as this one. */
    private static final long FORMAT = 1;

    BuildRecord {
        layers = List.copyOf(layers);
        steps = List.copyOf(steps);
        unusedArgs = List.copyOf(unusedArgs);
        lookups = Map.copyOf(lookups);
        contextReads = List.copyOf(contextReads);
    }

    /** Context sources as a COPY names them (expanded), and what {@link SourceTree#hash} made of their matches. */
    record ContextRead(List<String> sources, Digest hash) {
        ContextRead {
            sources = List.copyOf(sources);
        }
    }

    /** The build's key: the Dockerfile's text, the build args, the architecture and the builder. */
    static Digest key(String dockerfile, Map<String, String> buildArgs, String builder) {
        Map<String, Object> key = new TreeMap<>();
        key.put("format", FORMAT);
        key.put("builder", builder);
        key.put("architecture", Architecture.host());
        key.put("dockerfile", dockerfile);
        key.put("buildArgs", new TreeMap<>(buildArgs));
        return Digest.of(Json.writeTree(key));
    }

    /**
     * This builder: its version and the stamp of the jar it runs from (size, mtime, inode), so
     * that a new or rebuilt builder does not answer with what an older one made.
     */
    static String builder() {
        String version = Objects.requireNonNullElse(ImageBuilder.class.getPackage().getImplementationVersion(), "dev");
        try {
            Path code = Path.of(ImageBuilder.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(code)) {
                BasicFileAttributes attributes = Files.readAttributes(code, BasicFileAttributes.class);
                return version + " " + attributes.size() + " " + attributes.lastModifiedTime().toMillis() + " "
                        + attributes.fileKey();
            }
        } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
            // No stamp to be had: the version alone.
        }
        return version;
    }

    /**
     * Whether everything the build read is as it was: the store still resolves each reference to
     * the same image (or to none), the context's sources still hash the same, and the image is
     * still stored whole.
     */
    boolean holds(ImageStore store, SourceTree context) {
        try {
            if (!store.holds(image, layers)) {
                return false;
            }
            for (var lookup : lookups.entrySet()) {
                if (!found(store, lookup.getKey()).equals(lookup.getValue())) {
                    return false;
                }
            }
            for (ContextRead read : contextReads) {
                // The hex digits compared, not the records: a record's equals is bootstrapped on its
                // first call (java.lang.runtime.ObjectMethods), which costs more than this whole check.
                if (!context.hash(context.match(read.sources())).hex().equals(read.hash().hex())) {
                    return false;
                }
            }
            return true;
        } catch (IOException | IllegalArgumentException | CageException e) {
            // A source gone, an ambiguous id, a damaged store: the build by steps says what is wrong.
            return false;
        }
    }

    /** What a lookup of {@code reference} finds now, as recorded: the image's id, or "" for none. */
    static String found(ImageStore store, String reference) {
        return store.resolve(reference).filter(id -> store.holds(id, List.of())).map(Digest::toString).orElse("");
    }

    String toJson() {
        Map<String, Object> tree = new TreeMap<>();
        tree.put("format", FORMAT);
        tree.put("image", image.toString());
        tree.put("layers", layers.stream().map(Digest::toString).toList());
        tree.put("steps", steps);
        tree.put("unusedArgs", unusedArgs);
        tree.put("lookups", new TreeMap<>(lookups));
        List<Object> reads = new ArrayList<>();
        for (ContextRead read : contextReads) {
            reads.add(Map.of("sources", read.sources(), "hash", read.hash().toString()));
        }
        tree.put("contextReads", reads);
        return Json.writeTree(tree);
    }

    /** The record in {@code json}, or empty when it is of another format or damaged (a rebuild by steps, no more). */
    static Optional<BuildRecord> parse(String json) {
        try (JsonParser parser = Json.factory().createParser(json)) {
            parser.nextToken();
            Map<?, ?> tree = (Map<?, ?>) Json.value(parser);
            if (!isFormat(tree.get("format"))) {
                return Optional.empty();
            }
            List<ContextRead> reads = new ArrayList<>();
            for (Object read : (List<?>) tree.get("contextReads")) {
                Map<?, ?> fields = (Map<?, ?>) read;
                reads.add(new ContextRead(strings(fields.get("sources")), Digest.parse((String) fields.get("hash"))));
            }
            Map<String, String> lookups = new LinkedHashMap<>();
            ((Map<?, ?>) tree.get("lookups")).forEach((reference, id) -> lookups.put((String) reference, (String) id));
            return Optional.of(new BuildRecord(Digest.parse((String) tree.get("image")),
                    strings(tree.get("layers")).stream().map(Digest::parse).toList(), strings(tree.get("steps")),
                    strings(tree.get("unusedArgs")), lookups, reads));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether {@code format} is this format's number: a whole number, as the reader gives it (an Integer
     * for one this small), never a fraction or the text of one.
     */
    private static boolean isFormat(Object format) {
        return (format instanceof Integer || format instanceof Long) && ((Number) format).longValue() == FORMAT;
    }

    private static List<String> strings(Object list) {
        List<String> strings = new ArrayList<>();
        for (Object item : (List<?>) list) {
            strings.add((String) Objects.requireNonNull(item));
        }
        return strings;
    }
}
