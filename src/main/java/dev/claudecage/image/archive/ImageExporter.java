package dev.claudecage.image.archive;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.Directories;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.LinuxFiles;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.json.Json;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code claude-cage image save}: an image of the store as an OCI image layout directory, which
 * {@code image import} (root's or a rootless user's), podman, skopeo and containerd read. Each
 * layer becomes an uncompressed tar made by GNU tar, with the store's overlayfs whiteouts turned
 * back into the OCI form (a 0/0 character device NAME into an empty {@code .wh.NAME}, the opaque
 * attribute into {@code .wh..wh..opq}), the reverse of what {@link ImageImporter} does. The
 * config's {@code rootfs.diff_ids} are the digests of those tars, as the spec has them.
 */
public final class ImageExporter {

    private static final Duration TAR_TIMEOUT = Duration.ofMinutes(30);
    private static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar";
    private static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

    private final ProcessRunner runner;

    public ImageExporter(ProcessRunner runner) {
        this.runner = runner;
    }

    /** What was written: the layout's manifest digest, its layers and their bytes. */
    public record Result(Digest manifest, int layers, long bytes) {
    }

    /** Writes {@code image}, named {@code name}, as an OCI layout in {@code target}, which must not exist yet. */
    public Result save(StoredImage image, ImageName name, Path target, Consumer<String> onNote) {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new UserInputException(target + " exists already", "name a new directory; image save makes it");
        }
        try {
            Path blobs = Files.createDirectories(target.resolve("blobs/sha256"));
            Path work = Files.createDirectory(target.resolve(".claude-cage-save"));
            try {
                List<Digest> diffIds = new ArrayList<>();
                List<ObjectNode> layerDescriptors = new ArrayList<>();
                long bytes = 0;
                List<Path> layers = image.layerDirectories();
                for (int i = 0; i < layers.size(); i++) {
                    onNote.accept("layer " + (i + 1) + "/" + layers.size() + ": archiving");
                    Path tar = layerTar(layers.get(i), work);
                    Digest digest = moveToBlobs(tar, blobs);
                    long size = Files.size(blobs.resolve(digest.hex()));
                    bytes += size;
                    diffIds.add(digest);
                    layerDescriptors.add(descriptor(LAYER_TYPE, digest, size));
                }
                ImageConfig stored = image.config();
                ImageConfig config = stored.withLayers(stored.architecture(), stored.os(), new ImageConfig.RootFs("layers", diffIds));
                byte[] configBytes = Json.write(config).getBytes(StandardCharsets.UTF_8);
                Digest configDigest = writeBlob(configBytes, blobs);
                ObjectNode manifest = Json.mapper().createObjectNode();
                manifest.put("schemaVersion", 2).put("mediaType", MANIFEST_TYPE);
                manifest.set("config", descriptor(CONFIG_TYPE, configDigest, configBytes.length));
                manifest.putArray("layers").addAll(layerDescriptors);
                byte[] manifestBytes = Json.write(manifest).getBytes(StandardCharsets.UTF_8);
                Digest manifestDigest = writeBlob(manifestBytes, blobs);

                ObjectNode entry = descriptor(MANIFEST_TYPE, manifestDigest, manifestBytes.length);
                entry.putObject("annotations").put("io.containerd.image.name", name.toString())
                        .put("org.opencontainers.image.ref.name", name.tag());
                entry.putObject("platform").put("architecture", stored.architecture()).put("os", stored.os());
                ObjectNode index = Json.mapper().createObjectNode();
                index.put("schemaVersion", 2).put("mediaType", "application/vnd.oci.image.index.v1+json");
                index.putArray("manifests").add(entry);
                Files.writeString(target.resolve("index.json"), Json.write(index));
                Files.writeString(target.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
                return new Result(manifestDigest, layers.size(), bytes);
            } finally {
                Directories.deleteRecursively(work);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Directories.deleteRecursively(target);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new CageException("cannot save the image to " + target + ": " + e.getMessage());
        }
    }

    /** The layer directory as an OCI layer tar: the files as they are, the whiteouts in the OCI form. */
    private Path layerTar(Path layer, Path work) throws IOException {
        Path tar = work.resolve("layer.tar");
        Path markers = Files.createDirectory(work.resolve("markers"));
        List<String> whiteoutDevices = new ArrayList<>();
        List<String> markerFiles = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(layer)) {
            for (Path path : (Iterable<Path>) walk::iterator) {
                String relative = layer.relativize(path).toString();
                BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attributes.isOther() && isWhiteout(path)) {
                    whiteoutDevices.add("./" + relative);
                    markerFiles.add(marker(markers, layer.relativize(path.getParent()), ".wh." + path.getFileName()));
                } else if (attributes.isDirectory() && isOpaque(path)) {
                    markerFiles.add(marker(markers, layer.relativize(path), ".wh..wh..opq"));
                }
            }
        }
        Path excluded = Files.writeString(work.resolve("whiteouts"), String.join("\n", whiteoutDevices)
                + (whiteoutDevices.isEmpty() ? "" : "\n"));
        // overlayfs's own attributes stay behind: the opaque marks become marker files below, and the
        // rest (origin, impure) describe the build's upper directory on this host, nothing of the image.
        runner.run(List.of("tar", "-C", layer.toString(), "--numeric-owner", "--sort=name", "--xattrs",
                "--xattrs-exclude=" + LinuxFiles.OverlayAttributes.TRUSTED.prefix() + "*",
                "--xattrs-exclude=" + LinuxFiles.OverlayAttributes.USER.prefix() + "*",
                "--no-wildcards", "--anchored", "--exclude-from=" + excluded,
                "-cf", tar.toString(), "."), TAR_TIMEOUT);
        if (!markerFiles.isEmpty()) {
            // File entries only (no recursion): the directories they sit in are in the archive already.
            List<String> append = new ArrayList<>(List.of("tar", "-C", markers.toString(), "--numeric-owner",
                    "--owner=0", "--group=0", "--mode=0644", "--no-recursion", "-rf", tar.toString()));
            append.addAll(markerFiles);
            runner.run(append, TAR_TIMEOUT);
        }
        Directories.deleteRecursively(markers);
        return tar;
    }

    /** An empty marker file in {@code markers} at the same place as in the layer; its name as tar gets it. */
    private static String marker(Path markers, Path directory, String name) throws IOException {
        Path file = Files.createDirectories(markers.resolve(directory.toString())).resolve(name);
        Files.createFile(file);
        return "./" + markers.relativize(file);
    }

    /** Opaque in either kind of store: root's marks are trusted attributes, a rootless user's are user ones. */
    private static boolean isOpaque(Path directory) throws IOException {
        for (LinuxFiles.OverlayAttributes attributes : LinuxFiles.OverlayAttributes.values()) {
            if (LinuxFiles.xattr(directory, attributes.opaque()) != null) {
                return true;
            }
        }
        return false;
    }

    private static boolean isWhiteout(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        long rdev = ((Number) Files.getAttribute(path, "unix:rdev", LinkOption.NOFOLLOW_LINKS)).longValue();
        return (mode & 0170000) == 0020000 && rdev == 0;
    }

    private static ObjectNode descriptor(String mediaType, Digest digest, long size) {
        ObjectNode descriptor = Json.mapper().createObjectNode();
        descriptor.put("mediaType", mediaType).put("digest", digest.toString()).put("size", size);
        return descriptor;
    }

    private static Digest writeBlob(byte[] content, Path blobs) throws IOException {
        Digest digest = Digest.of(content);
        Files.write(blobs.resolve(digest.hex()), content);
        return digest;
    }

    private static Digest moveToBlobs(Path file, Path blobs) throws IOException {
        MessageDigest sha256 = Digest.sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                sha256.update(buffer, 0, read);
            }
        }
        Digest digest = Digest.parse("sha256:" + HexFormat.of().formatHex(sha256.digest()));
        Files.move(file, blobs.resolve(digest.hex()));
        return digest;
    }
}
