package dev.claudecage.image.archive;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.image.store.Architecture;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.HostPlatform;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.LayerDigest;
import dev.claudecage.image.store.LinuxFiles;
import dev.claudecage.json.Json;
import dev.claudecage.rootless.NamespaceReexec;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code claude-cage image import}: an image from an OCI image layout (a directory, or a tar of
 * one) or from a {@code docker save} archive, into the store. Each layer is unpacked by GNU tar
 * (which defers links pointing outside the tree, so a hostile layer cannot write through them)
 * and its whiteouts are turned into the overlayfs form: {@code .wh.NAME} becomes a 0/0
 * character device NAME, {@code .wh..wh..opq} the opaque attribute on its directory. Every blob
 * an OCI layout names is checked against its digest.
 */
public final class ImageImporter {

    private static final Duration TAR_TIMEOUT = Duration.ofMinutes(30);
    private static final String WHITEOUT_PREFIX = ".wh.";
    private static final String OPAQUE_WHITEOUT = ".wh..wh..opq";
    private static final List<String> NAME_ANNOTATIONS = List.of("io.containerd.image.name",
            "org.opencontainers.image.ref.name");

    private final ImageStore store;
    private final ProcessRunner runner;

    public ImageImporter(ImageStore store, ProcessRunner runner) {
        this.store = store;
        this.runner = runner;
    }

    /** What was imported. */
    public record Result(ImageName name, Digest id, int layers) {
    }

    /** The image's config and its layer archives, bottom first, wherever the format keeps them. */
    private record Found(JsonNode config, List<Path> layerArchives, String nameInArchive) {
    }

    /**
     * Imports {@code source}; {@code name} names the image, or null to take the name the archive
     * carries. {@code onNote} hears what happens, layer by layer.
     */
    public Result importImage(Path source, ImageName name, Consumer<String> onNote) {
        if (!Files.exists(source)) {
            throw new UserInputException(source + " does not exist", "pass an OCI layout directory or a docker save archive");
        }
        FileLock lock = store.lock(onNote);
        try {
            store.clearWorkDirectories(onNote);
            Path work = store.createWorkDirectory("import");
            try {
                Path layout = source;
                if (!Files.isDirectory(source)) {
                    layout = Files.createDirectory(work.resolve("archive"));
                    onNote.accept("unpacking " + source);
                    runner.run(List.of("tar", "-xf", source.toAbsolutePath().toString(), "-C", layout.toString()), TAR_TIMEOUT);
                }
                Found found = find(layout);
                ImageName imageName = name != null ? name : nameOrFail(found.nameInArchive(), source);
                return storeImage(found.config(), found.layerArchives(), imageName, work, onNote);
            } finally {
                Directories.deleteRecursively(work);
            }
        } catch (IOException e) {
            throw new CageException("cannot import " + source + ": " + e.getMessage());
        } finally {
            lock.close();
        }
    }

    private static ImageName nameOrFail(String nameInArchive, Path source) {
        if (nameInArchive == null) {
            throw new UserInputException(source + " does not say what the image is called", "name it with --name NAME[:TAG]");
        }
        return ImageName.parse(nameInArchive);
    }

    private Found find(Path layout) throws IOException {
        if (Files.isRegularFile(layout.resolve("index.json")) && Files.isRegularFile(layout.resolve("oci-layout"))) {
            return findInOciLayout(layout);
        }
        if (Files.isRegularFile(layout.resolve("manifest.json"))) {
            return findInDockerSave(layout);
        }
        throw new UserInputException(layout + " is neither an OCI image layout (index.json, oci-layout) nor a docker save "
                + "archive (manifest.json)", "export the image with 'docker save IMAGE -o image.tar' or as an OCI layout");
    }

    private Found findInOciLayout(Path layout) throws IOException {
        JsonNode index = readJson(layout.resolve("index.json"));
        JsonNode descriptor = chooseManifest(layout, index);
        String name = null;
        for (String annotation : NAME_ANNOTATIONS) {
            String value = descriptor.path("annotations").path(annotation).asText(null);
            if (name == null && value != null && value.contains(":") && !value.startsWith("sha256:")) {
                name = value;
            }
        }
        JsonNode manifest = readJson(blob(layout, descriptor.path("digest").asText()));
        JsonNode config = readJson(blob(layout, manifest.path("config").path("digest").asText()));
        List<Path> layers = new ArrayList<>();
        for (JsonNode layer : manifest.path("layers")) {
            layers.add(blob(layout, layer.path("digest").asText()));
        }
        return new Found(config, layers, name);
    }

    /** The manifest for this host's platform, following nested indexes (manifest lists). */
    private JsonNode chooseManifest(Path layout, JsonNode index) throws IOException {
        List<JsonNode> forHost = HostPlatform.manifests(index, "the image");
        if (forHost.size() > 1) {
            throw new UserInputException("the layout holds " + forHost.size() + " images; claude-cage imports one at a time",
                    "export a single image");
        }
        JsonNode chosen = forHost.get(0);
        if (HostPlatform.INDEX_TYPES.contains(chosen.path("mediaType").asText())) {
            return chooseManifest(layout, readJson(blob(layout, chosen.path("digest").asText())));
        }
        return chosen;
    }

    private Found findInDockerSave(Path layout) throws IOException {
        JsonNode manifests = readJson(layout.resolve("manifest.json"));
        if (!manifests.isArray() || manifests.size() != 1) {
            throw new UserInputException("the docker save archive holds " + manifests.size()
                    + " images; claude-cage imports one at a time", "docker save one image");
        }
        JsonNode manifest = manifests.get(0);
        JsonNode config = readJson(inside(layout, manifest.path("Config").asText()));
        List<Path> layers = new ArrayList<>();
        for (JsonNode layer : manifest.path("Layers")) {
            layers.add(inside(layout, layer.asText()));
        }
        JsonNode tags = manifest.path("RepoTags");
        return new Found(config, layers, tags.isArray() && tags.size() > 0 ? tags.get(0).asText() : null);
    }

    /**
     * Stores an image from its config (OCI image-config JSON) and its layer archives, bottom first
     * (tar, gzip-compressed or not), and names it. Each layer is unpacked in a directory under
     * {@code work} and committed; the caller holds the store's lock. Registry pulls use this too.
     */
    public Result storeImage(JsonNode configJson, List<Path> layerArchives, ImageName name, Path work,
                             Consumer<String> onNote) throws IOException {
        ImageConfig original = Json.mapper().treeToValue(configJson, ImageConfig.class);
        if (original.architecture() != null && !original.architecture().equals(Architecture.host())) {
            throw new UserInputException("the image is for " + original.architecture() + "; this host runs "
                    + Architecture.host());
        }
        List<Digest> layers = new ArrayList<>();
        for (int i = 0; i < layerArchives.size(); i++) {
            Path archive = layerArchives.get(i);
            onNote.accept("layer " + (i + 1) + "/" + layerArchives.size() + ": unpacking " + archive.getFileName());
            Path directory = Files.createDirectory(work.resolve("layer-" + i));
            List<String> extract = new ArrayList<>(List.of("tar", "-xf", archive.toString(), "-C", directory.toString(),
                    "--numeric-owner", "--same-owner", "--same-permissions", "--xattrs", "--xattrs-include=*"));
            if (NamespaceReexec.owner().isPresent()) {
                extract.addAll(withoutDeviceNodes(archive, work, i, onNote));
            }
            runner.run(extract, TAR_TIMEOUT);
            convertWhiteouts(directory);
            LayerDigest.Result layer = store.commitLayer(directory);
            layers.add(layer.digest());
        }
        ImageConfig config = original.withLayers(Architecture.host(), ImageConfig.LINUX, new ImageConfig.RootFs("layers", layers));
        Digest id = store.commitImage(config);
        store.tag(name, id);
        return new Result(name, id, layers.size());
    }

    /**
     * tar options that leave out the archive's device nodes, for a rootless user, who cannot make
     * them (debootstrap's /dev/null and friends). Nothing is lost: a cage's /dev is a tmpfs of its
     * own, over the image's. An OCI layer's whiteouts are files, not devices, so none is skipped.
     */
    private List<String> withoutDeviceNodes(Path archive, Path work, int layer, Consumer<String> onNote) throws IOException {
        // --verbose lists the type first; --quoting-style=escape keeps one entry per line.
        String listing = runner.run(List.of("tar", "-tvf", archive.toString(), "--numeric-owner",
                "--quoting-style=escape"), TAR_TIMEOUT).stdout();
        List<String> devices = new ArrayList<>();
        for (String line : listing.split("\n")) {
            if (line.startsWith("c") || line.startsWith("b")) {
                // "crw-rw-rw- 0/0 1,3 2026-01-01 00:00 ./dev/null": the name follows the date and time.
                String[] fields = line.split(" +", 6);
                if (fields.length == 6) {
                    devices.add(fields[5]);
                }
            }
        }
        if (devices.isEmpty()) {
            return List.of();
        }
        onNote.accept("layer " + (layer + 1) + ": " + devices.size() + " device node(s) left out (" + String.join(", ",
                devices.subList(0, Math.min(3, devices.size()))) + (devices.size() > 3 ? ", ..." : "")
                + "): without root they cannot be made, and a cage's /dev is its own");
        Path excluded = Files.writeString(work.resolve("devices-" + layer), String.join("\n", devices) + "\n");
        return List.of("--no-wildcards", "--anchored", "--exclude-from=" + excluded);
    }

    /**
     * OCI whiteout files into overlayfs whiteouts, in place. The folders keep the modification
     * times the archive gave them, and a whiteout takes its marker's, so that a layer saved by
     * {@code image save} and imported again is the same layer (the same digest).
     */
    static void convertWhiteouts(Path layer) throws IOException {
        List<Path> whiteouts;
        try (Stream<Path> walk = Files.walk(layer)) {
            whiteouts = walk.filter(path -> path.getFileName().toString().startsWith(WHITEOUT_PREFIX)).toList();
        }
        java.util.Map<Path, java.nio.file.attribute.FileTime> folderTimes = new java.util.LinkedHashMap<>();
        for (Path whiteout : whiteouts) {
            folderTimes.putIfAbsent(whiteout.getParent(), Files.getLastModifiedTime(whiteout.getParent()));
        }
        for (Path whiteout : whiteouts) {
            String name = whiteout.getFileName().toString();
            java.nio.file.attribute.FileTime markerTime = Files.getLastModifiedTime(whiteout, LinkOption.NOFOLLOW_LINKS);
            Files.delete(whiteout);
            if (name.equals(OPAQUE_WHITEOUT)) {
                LinuxFiles.setXattr(whiteout.getParent(), LinuxFiles.overlayAttributesHere().opaque(),
                        "y".getBytes(StandardCharsets.US_ASCII));
            } else {
                Path hidden = whiteout.resolveSibling(name.substring(WHITEOUT_PREFIX.length()));
                if (Files.exists(hidden, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("the layer both has " + hidden.getFileName() + " and deletes it");
                }
                LinuxFiles.createWhiteout(hidden);
                Files.setLastModifiedTime(hidden, markerTime);
            }
        }
        for (var folder : folderTimes.entrySet()) {
            Files.setLastModifiedTime(folder.getKey(), folder.getValue());
        }
    }

    /** A blob of an OCI layout, checked against its digest. */
    private static Path blob(Path layout, String digest) throws IOException {
        Digest expected;
        try {
            expected = Digest.parse(digest);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("the OCI layout names the blob '" + digest + "', which is not a sha256 digest");
        }
        Path blob = layout.resolve("blobs/sha256").resolve(expected.hex());
        if (!Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
            throw new UserInputException("the OCI layout " + layout + " lacks the blob " + digest);
        }
        MessageDigest sha256 = Digest.sha256();
        try (InputStream in = Files.newInputStream(blob)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                sha256.update(buffer, 0, read);
            }
        }
        if (!HexFormat.of().formatHex(sha256.digest()).equals(expected.hex())) {
            throw new UserInputException("the blob " + digest + " in " + layout + " does not match its digest: it is damaged");
        }
        return blob;
    }

    /** A path the archive's manifest names, which must stay inside the archive. */
    private static Path inside(Path layout, String relative) {
        Path path = layout.resolve(relative).normalize();
        if (relative.isEmpty() || !path.startsWith(layout.normalize())) {
            throw new UserInputException("the archive's manifest names '" + relative + "', outside the archive");
        }
        return path;
    }

    private static JsonNode readJson(Path file) throws IOException {
        return Json.mapper().readTree(Files.readString(file));
    }
}
