package dev.claudecage.image.archive;

import com.fasterxml.jackson.databind.node.ArrayNode;
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

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
 * {@code image import} (root's or a rootless user's), podman, skopeo and containerd read, or as a
 * tar of one with Docker's {@code manifest.json} beside it, which {@code docker load} reads too. Each
 * layer becomes an uncompressed tar made by GNU tar, with the store's overlayfs whiteouts turned
 * back into the OCI form (a 0/0 character device NAME into an empty {@code .wh.NAME}, the opaque
 * attribute into {@code .wh..wh..opq}), the reverse of what {@link ImageImporter} does. The
 * config's {@code rootfs.diff_ids} are the digests of those tars, as the spec has them.
 * <p>
 * The same image saves to the same bytes: the layer tars keep the files' own modification times
 * but no access or change times (which reading the layer changes) and no process ids in their
 * extended headers, the marker files are dated 0, and the archive around them is a
 * {@link ReproducibleTar}.
 */
public final class ImageExporter {

    private static final Duration TAR_TIMEOUT = Duration.ofMinutes(30);
    private static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar";
    private static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    private static final String BLOBS = "blobs/sha256/";

    private final ProcessRunner runner;

    public ImageExporter(ProcessRunner runner) {
        this.runner = runner;
    }

    /** What was written: the layout's manifest digest, its config's, its layers' (bottom first) and their bytes. */
    public record Result(Digest manifest, Digest config, List<Digest> layerDigests, long bytes) {

        public Result {
            layerDigests = List.copyOf(layerDigests);
        }

        public int layers() {
            return layerDigests.size();
        }
    }

    /** GNU tar's POSIX format without what changes between two saves of the same files. */
    static final List<String> REPRODUCIBLE_FORMAT = List.of("--format=posix",
            "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime");

    /** Writes {@code image}, named {@code name}, as an OCI layout in {@code target}, which must not exist yet. */
    public Result save(StoredImage image, ImageName name, Path target, Consumer<String> onNote) {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new UserInputException(target + " exists already", "name a new directory; image save makes it");
        }
        try {
            Path blobs = Files.createDirectories(target.resolve(BLOBS));
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
                return new Result(manifestDigest, configDigest, diffIds, bytes);
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

    /**
     * Writes {@code image}, named {@code name}, at {@code target} (which must not exist yet) as a tar
     * of its OCI layout with Docker's {@code manifest.json} added: {@code image import} takes it as
     * the layout, {@code docker load} by the manifest. Made beside the target and renamed into place,
     * so that a failed save leaves nothing.
     */
    public Result saveArchive(StoredImage image, ImageName name, Path target, Consumer<String> onNote) {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new UserInputException(target + " exists already", "name a new file; image save makes it");
        }
        Path parent = target.toAbsolutePath().getParent();
        Path work = null;
        try {
            work = Files.createTempDirectory(parent, ".claude-cage-save-");
            Path layout = work.resolve("layout");
            Result result = save(image, name, layout, onNote);
            onNote.accept("writing " + target);
            Path tar = work.resolve("image.tar");
            writeArchive(layout, result, name, tar);
            Files.move(tar, target, StandardCopyOption.ATOMIC_MOVE);
            return result;
        } catch (IOException e) {
            throw new CageException("cannot save the image to " + target + ": " + e.getMessage());
        } finally {
            if (work != null) {
                try {
                    Directories.deleteRecursively(work);
                } catch (IOException e) {
                    onNote.accept("cannot remove " + work + ": " + e.getMessage());
                }
            }
        }
    }

    /** The layout in one tar, every entry's name sorted, with Docker's manifest.json among them. */
    private static void writeArchive(Path layout, Result result, ImageName name, Path tar) throws IOException {
        ObjectNode dockerImage = Json.mapper().createObjectNode();
        dockerImage.put("Config", BLOBS + result.config().hex());
        dockerImage.putArray("RepoTags").add(name.toString());
        ArrayNode layers = dockerImage.putArray("Layers");
        result.layerDigests().forEach(layer -> layers.add(BLOBS + layer.hex()));
        byte[] dockerManifest = Json.write(Json.mapper().createArrayNode().add(dockerImage))
                .getBytes(StandardCharsets.UTF_8);
        List<String> blobs;
        try (Stream<Path> files = Files.list(layout.resolve(BLOBS))) {
            blobs = files.map(file -> file.getFileName().toString()).sorted().toList();
        }
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tar, StandardOpenOption.CREATE_NEW),
                1 << 16); ReproducibleTar archive = new ReproducibleTar(out)) {
            archive.folder("blobs");
            archive.folder("blobs/sha256");
            for (String blob : blobs) {
                archive.file(BLOBS + blob, layout.resolve(BLOBS + blob));
            }
            archive.file("index.json", Files.readAllBytes(layout.resolve("index.json")));
            archive.file("manifest.json", dockerManifest);
            archive.file("oci-layout", Files.readAllBytes(layout.resolve("oci-layout")));
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
        List<String> create = new ArrayList<>(List.of("tar", "-C", layer.toString(), "--numeric-owner", "--sort=name",
                "--xattrs", "--xattrs-exclude=" + LinuxFiles.OverlayAttributes.TRUSTED.prefix() + "*",
                "--xattrs-exclude=" + LinuxFiles.OverlayAttributes.USER.prefix() + "*",
                "--no-wildcards", "--anchored", "--exclude-from=" + excluded));
        create.addAll(REPRODUCIBLE_FORMAT);
        create.addAll(List.of("-cf", tar.toString(), "."));
        runner.run(create, TAR_TIMEOUT);
        if (!markerFiles.isEmpty()) {
            // File entries only (no recursion): the directories they sit in are in the archive already.
            List<String> append = new ArrayList<>(List.of("tar", "-C", markers.toString(), "--numeric-owner",
                    "--owner=0", "--group=0", "--mode=0644", "--mtime=@0", "--no-recursion"));
            append.addAll(REPRODUCIBLE_FORMAT);
            append.addAll(List.of("-rf", tar.toString()));
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
