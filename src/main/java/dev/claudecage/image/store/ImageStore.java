package dev.claudecage.image.store;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.RandomNames;
import dev.claudecage.host.StateLayout;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The image store, as root under {@code /var/lib/claude-cage/images}, rootless under
 * {@code $XDG_DATA_HOME/claude-cage/images} (see {@link StateLayout}):
 * <pre>
 *   layers/HEX/diff         a layer: one overlayfs upper directory, whiteouts as overlayfs keeps them
 *   layers/HEX/layer.json   its size
 *   configs/HEX.json        an image: its OCI image config; the image id is the digest of this file
 *   names.json              NAME:TAG to image id
 *   cache/KEY.json          the build cache (see {@link BuildCache})
 *   builds/KEY.json         whole builds: what a build's inputs made (see {@link BuildRecords})
 *   tmp/                    work directories of builds and imports in progress
 *   lock                    held by whoever writes
 * </pre>
 * Layers and images are content-addressed and never change once written. Every write goes to
 * a temporary name first and is renamed into place, so a crash leaves either the old state or
 * the new one, plus debris in tmp/ that the next writer removes. Readers take no lock.
 */
public final class ImageStore {


    private static final Pattern HEX_JSON = Pattern.compile("[0-9a-f]{64}\\.json");
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern ID_PREFIX = Pattern.compile("(sha256:)?[0-9a-f]{4,64}");

    private final Path root;

    public ImageStore(Path root) {
        this.root = root;
    }

    /** This user's store. */
    public static ImageStore openDefault() {
        return new ImageStore(StateLayout.current().images());
    }

    private Path layers() {
        return root.resolve("layers");
    }

    private Path configs() {
        return root.resolve("configs");
    }

    private Path namesFile() {
        return root.resolve("names.json");
    }

    private Path tmp() {
        return root.resolve("tmp");
    }

    public BuildCache cache() {
        return new BuildCache(this, root.resolve("cache"));
    }

    public BuildRecords builds() {
        return new BuildRecords(this, root.resolve("builds"));
    }

    private Path cacheMounts() {
        return root.resolve("cache-mounts");
    }

    /**
     * The directory a {@code RUN --mount=type=cache} with this id uses, made on first use (empty,
     * {@code uid:gid}, {@code mode}); it stays between builds, until {@code image prune}.
     */
    public Path cacheMountDirectory(String id, int uid, int gid, int mode) {
        Path directory = cacheMounts().resolve(Digest.of(id).hex());
        try {
            Directories.createPrivate(cacheMounts());
            if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
                Path staging = createWorkDirectory("cache-mount");
                Files.setAttribute(staging, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(staging, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(staging, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
                Files.move(staging, directory, StandardCopyOption.ATOMIC_MOVE);
            }
            return directory;
        } catch (IOException e) {
            throw new CageException("cannot make the cache mount directory " + directory + ": " + e.getMessage());
        }
    }

    // ---- reading -------------------------------------------------------------------------------

    public Path layerDirectory(Digest layer) {
        return layers().resolve(layer.hex()).resolve("diff");
    }

    public boolean hasLayer(Digest layer) {
        return Files.isDirectory(layerDirectory(layer));
    }

    /**
     * Whether the image {@code id} is stored whole, without reading its config: {@code layers}
     * must be its layers, as its config lists them (the id is that config's digest, so they
     * cannot change).
     */
    public boolean holds(Digest id, List<Digest> layers) {
        return Files.isRegularFile(configs().resolve(id.hex() + ".json")) && layers.stream().allMatch(this::hasLayer);
    }

    /** The image a name ({@code cli}, {@code debian:bookworm}) or an id (or a unique id prefix) refers to. */
    public Optional<StoredImage> find(String reference) {
        return resolve(reference).flatMap(this::image);
    }

    /**
     * The id a name or an id (or a unique id prefix) refers to, without reading the image: for a
     * named image, whether it exists is for {@link #image} to say.
     */
    public Optional<Digest> resolve(String reference) {
        if (reference.isEmpty()) {
            return Optional.empty();
        }
        ImageName name = nameOrNull(reference);
        Digest named = name == null ? null : names().get(name);
        if (named != null) {
            return Optional.of(named);
        }
        if (!ID_PREFIX.matcher(reference).matches()) {
            return Optional.empty();
        }
        String prefix = reference.startsWith("sha256:") ? reference.substring(7) : reference;
        List<Digest> matches = imageIds().stream().filter(id -> id.hex().startsWith(prefix)).toList();
        if (matches.size() > 1) {
            throw new UserInputException("the id prefix '" + reference + "' matches " + matches.size() + " images",
                    "give more digits of the id");
        }
        return matches.isEmpty() ? Optional.empty() : Optional.of(matches.get(0));
    }

    private static ImageName nameOrNull(String reference) {
        try {
            return ImageName.parse(reference);
        } catch (UserInputException notAName) {
            return null;
        }
    }

    public Optional<StoredImage> image(Digest id) {
        Path file = configs().resolve(id.hex() + ".json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        ImageConfig config = Json.read(read(file), ImageConfig.class);
        List<Path> directories = new ArrayList<>();
        for (Digest layer : config.layers()) {
            if (!hasLayer(layer)) {
                throw new CageException("image " + id.shortHex() + " is damaged: its layer " + layer + " is missing from "
                        + layers(), "remove it with 'claude-cage image rm' and build or import it again");
            }
            directories.add(layerDirectory(layer));
        }
        return Optional.of(new StoredImage(id, config, directories));
    }

    /**
     * Every name, sorted. Read token by token: a build answered from its record reads nothing
     * else, and the object mapper's start would cost more than the rest of it.
     */
    public Map<ImageName, Digest> names() {
        Path file = namesFile();
        if (!Files.isRegularFile(file)) {
            return Map.of();
        }
        Map<ImageName, Digest> names = new TreeMap<>(Comparator.comparing(ImageName::toString));
        try (JsonParser parser = Json.factory().createParser(read(file))) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                if (parser.nextToken() != JsonToken.VALUE_STRING) {
                    throw new IOException("the id of " + name + " is not a string");
                }
                names.put(ImageName.parse(name), Digest.parse(parser.getText()));
            }
        } catch (IOException | IllegalArgumentException | UserInputException e) {
            throw new CageException("the image store's " + file + " is damaged: " + e.getMessage(),
                    "move it away and build or import the images again");
        }
        return names;
    }

    private List<Digest> imageIds() {
        return listNames(configs(), HEX_JSON).stream().map(name -> new Digest(name.substring(0, 64))).toList();
    }

    /** A row of {@code claude-cage images}; an image without a name shows as {@code <none>}. */
    public record Summary(String name, Digest id, long size, String created) {
    }

    /** Named images by name, then images without a name, newest first. */
    public List<Summary> list() {
        List<Summary> rows = new ArrayList<>();
        Set<Digest> named = new HashSet<>();
        names().forEach((name, id) -> image(id).ifPresent(image -> {
            named.add(id);
            rows.add(new Summary(name.toString(), id, size(image.config()), image.config().created()));
        }));
        List<Summary> unnamed = new ArrayList<>();
        for (Digest id : imageIds()) {
            if (!named.contains(id)) {
                image(id).ifPresent(image -> unnamed.add(new Summary("<none>", id, size(image.config()),
                        image.config().created())));
            }
        }
        unnamed.sort(Comparator.comparing(Summary::created, Comparator.nullsLast(Comparator.reverseOrder())));
        rows.addAll(unnamed);
        return rows;
    }

    private long size(ImageConfig config) {
        return config.layers().stream().mapToLong(this::layerSize).sum();
    }

    public long layerSize(Digest layer) {
        Path file = layers().resolve(layer.hex()).resolve("layer.json");
        return Files.isRegularFile(file) ? Json.read(read(file), LayerInfo.class).size() : 0;
    }

    record LayerInfo(long size) {
    }

    // ---- writing (under the lock) ------------------------------------------------------------------

    /** The store's write lock; {@code onWait} hears once if another claude-cage holds it. */
    public FileLock lock(Consumer<String> onWait) {
        try {
            Directories.createPrivate(root.getParent());
            Directories.createPrivate(root);
            FileLock lock = FileLock.acquireWaiting(root.resolve("lock"), () -> onWait.accept(
                    "waiting for another claude-cage build or image command to finish with " + root));
            try {
                for (Path dir : List.of(layers(), configs(), root.resolve("cache"), tmp())) {
                    Files.createDirectories(dir);
                }
            } catch (IOException e) {
                lock.close();
                throw e;
            }
            return lock;
        } catch (IOException e) {
            throw new CageException("cannot lock the image store " + root + ": " + e.getMessage());
        }
    }

    /**
     * Gives the store's own files (names, image configs, layer records, the cache, the folders) to
     * {@code uid}:{@code gid}, and leaves the layers' content as it is, top folder included: that one
     * is the cage's {@code /}, which must stay root's.
     * A rootless user's store is written as root of the user's namespace, so that the layers' files
     * belong to the namespace's ids; handing the rest over lets the user read the store outside it.
     */
    public void handOver(int uid, int gid) throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        Path layers = layers();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.getFileName().toString().equals("diff") && layers.equals(dir.getParent().getParent())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                own(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                own(file);
                return FileVisitResult.CONTINUE;
            }

            private void own(Path path) throws IOException {
                Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            }
        });
    }

    /** A fresh private directory under tmp/, on the store's file system (so it can become a layer). */
    public Path createWorkDirectory(String purpose) {
        Path dir = tmp().resolve(purpose + "-" + RandomNames.hex(6));
        try {
            return Directories.createPrivate(dir);
        } catch (IOException e) {
            throw new CageException("cannot create " + dir + ": " + e.getMessage());
        }
    }

    /**
     * Removes what interrupted builds and imports left in tmp/. Only under the lock, so no
     * running build loses its work; a directory that is still a mount point stays, with a warning.
     */
    public void clearWorkDirectories(Consumer<String> onProblem) {
        for (String name : listNames(tmp(), Pattern.compile(".*"))) {
            try {
                Directories.deleteRecursively(tmp().resolve(name));
            } catch (IOException e) {
                onProblem.accept("cannot remove the leftover " + tmp().resolve(name) + ": " + e.getMessage());
            }
        }
    }

    /**
     * Moves {@code directory} (under tmp/) into the store as a layer, named by its content. When
     * the store has that layer already, the directory is removed instead.
     */
    public LayerDigest.Result commitLayer(Path directory) {
        try {
            LayerDigest.Result result = LayerDigest.of(directory);
            Path target = layers().resolve(result.digest().hex());
            if (Files.isDirectory(target)) {
                Directories.deleteRecursively(directory);
                return result;
            }
            Path staging = createWorkDirectory("layer");
            Files.move(directory, staging.resolve("diff"), StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(staging.resolve("layer.json"), Json.write(new LayerInfo(result.size())));
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            return result;
        } catch (IOException e) {
            throw new CageException("cannot store the layer in " + directory + ": " + e.getMessage());
        }
    }

    /** Writes the image's config; its digest is the image id. */
    public Digest commitImage(ImageConfig config) {
        String json = Json.write(config);
        Digest id = Digest.of(json);
        Path file = configs().resolve(id.hex() + ".json");
        if (!Files.isRegularFile(file)) {
            writeAtomically(file, json);
        }
        return id;
    }

    /** Points {@code name} at {@code id}, replacing what it named before. */
    public void tag(ImageName name, Digest id) {
        Map<ImageName, Digest> names = names();
        Digest before = names.get(name);
        // By the hex digits: a record's equals costs its bootstrap on first use, more than a build from its record.
        if (before != null && before.hex().equals(id.hex())) {
            return;
        }
        Map<String, String> written = new TreeMap<>();
        names.forEach((existing, existingId) -> written.put(existing.toString(), existingId.toString()));
        written.put(name.toString(), id.toString());
        writeAtomically(namesFile(), Json.writeTree(written));
    }

    /** What a removal freed. */
    public record Removal(List<String> images, int layers, long bytes, List<String> keptInUse) {
    }

    /**
     * Removes a name, or an unnamed image by its id; an image whose last name goes is removed
     * too, with those of its layers that no other image uses. Layers that a running cage has
     * mounted stay.
     */
    public Removal remove(String reference) {
        Map<ImageName, Digest> names = new LinkedHashMap<>(names());
        ImageName name = nameOrNull(reference);
        if (name == null || !names.containsKey(name)) {
            StoredImage unnamed = find(reference).orElseThrow(() -> new UserInputException(
                    "no image is named " + reference + " or has that id", "'claude-cage images' lists them"));
            List<String> itsNames = names.entrySet().stream().filter(entry -> entry.getValue().equals(unnamed.id()))
                    .map(entry -> entry.getKey().toString()).toList();
            if (!itsNames.isEmpty()) {
                throw new UserInputException("the image " + unnamed.id().shortHex() + " is named " + itsNames,
                        "remove it by its names");
            }
            return removeImage(unnamed.id(), "<none> (" + unnamed.id().shortHex() + ")");
        }
        Digest id = names.remove(name);
        Map<String, Digest> remaining = new TreeMap<>();
        names.forEach((other, otherId) -> remaining.put(other.toString(), otherId));
        writeAtomically(namesFile(), Json.write(remaining));
        if (names.containsValue(id)) {
            return new Removal(List.of(name.toString()), 0, 0, List.of());
        }
        return removeImage(id, name + " (" + id.shortHex() + ")");
    }

    private Removal removeImage(Digest id, String description) {
        Set<Digest> candidates = image(id).map(image -> Set.copyOf(image.config().layers())).orElse(Set.of());
        deleteQuietly(configs().resolve(id.hex() + ".json"));
        return removeLayers(candidates, List.of(description));
    }

    /**
     * Removes images without a name, every layer that no image uses (build cache and
     * intermediate stages included), stale cache entries and leftovers in tmp/.
     */
    public Removal prune() {
        Set<Digest> named = new HashSet<>(names().values());
        List<String> removedImages = new ArrayList<>();
        for (Digest id : imageIds()) {
            if (!named.contains(id)) {
                deleteQuietly(configs().resolve(id.hex() + ".json"));
                removedImages.add("<none> (" + id.shortHex() + ")");
            }
        }
        Set<Digest> allLayers = new HashSet<>();
        listNames(layers(), HEX).forEach(hex -> allLayers.add(new Digest(hex)));
        Removal removal = removeLayers(allLayers, removedImages);
        try {
            cache().dropStale();
            builds().dropStale();
            // RUN --mount=type=cache directories hold only what builds chose to keep between them.
            Directories.deleteRecursively(cacheMounts());
        } catch (IOException e) {
            throw new CageException("cannot clean the build cache in " + root + ": " + e.getMessage());
        }
        return removal;
    }

    private Removal removeLayers(Set<Digest> candidates, List<String> removedImages) {
        Set<Digest> used = new HashSet<>();
        for (Digest id : imageIds()) {
            image(id).ifPresent(image -> used.addAll(image.config().layers()));
        }
        String mounts = overlayMountOptions();
        int count = 0;
        long bytes = 0;
        List<String> inUse = new ArrayList<>();
        for (Digest layer : candidates) {
            if (used.contains(layer)) {
                continue;
            }
            if (mounts.contains(layerDirectory(layer).toString())) {
                inUse.add(layer.toString());
                continue;
            }
            bytes += layerSize(layer);
            try {
                Directories.deleteRecursively(layers().resolve(layer.hex()));
            } catch (IOException e) {
                throw new CageException("cannot remove layer " + layer + ": " + e.getMessage());
            }
            count++;
        }
        return new Removal(removedImages, count, bytes, inUse);
    }

    /** The options of every overlay mount on the host: they name the layers in use. */
    private static String overlayMountOptions() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
            StringBuilder options = new StringBuilder();
            lines.filter(line -> line.contains(" - overlay ")).forEach(line -> options.append(line).append('\n'));
            return options.toString();
        } catch (IOException e) {
            throw new CageException("cannot read /proc/self/mountinfo to see which layers are in use: " + e.getMessage());
        }
    }

    /** Writes {@code file} under a temporary name and renames it into place. */
    void writeAtomically(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Directories.writeAtomically(file, content.getBytes(StandardCharsets.UTF_8), "rw-r--r--");
        } catch (IOException e) {
            throw new CageException("cannot write " + file + ": " + e.getMessage());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // What is left is unreachable garbage that the next prune removes.
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new CageException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static List<String> listNames(Path dir, Pattern pattern) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(path -> path.getFileName().toString()).filter(name -> pattern.matcher(name).matches())
                    .sorted().toList();
        } catch (IOException e) {
            throw new CageException("cannot list " + dir + ": " + e.getMessage());
        }
    }
}
