package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.claudecage.json.Json;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code claude-cage image import} of an OCI image layout and of a {@code docker save} archive,
 * both made here from the minbase rootfs plus a layer with whiteouts, then run in a cage and
 * built upon.
 */
class ImageImportIT {

    private static final String PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** What a cage must see: the whiteout hid /etc/motd, the opaque directory hid /etc/skel's files. */
    private static final String CHECK = "test ! -e /etc/motd && echo motd-deleted; ls -A /etc/skel; pwd; echo $FROM_IMPORT";
    private static final String EXPECTED = "motd-deleted\nkept.txt\n/etc/skel\nyes\n";

    @TempDir
    Path work;

    private final List<String> images = new ArrayList<>();
    private List<String> leftoversBefore;

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        leftoversBefore = CageHarness.leftovers();
    }

    @AfterEach
    void removeImages() throws Exception {
        ImageBuildIT.removeImages(images);
        assertEquals(List.of(), ImageBuildIT.newLeftovers(leftoversBefore), "the test left something behind");
        assertEquals(List.of(), ImageBuildIT.children(ImageBuildIT.STORE.resolve("tmp")));
    }

    private record Blob(String digest, long size) {
    }

    /** The two layer archives: the minbase rootfs, and a gzipped layer that deletes and hides. */
    private List<Path> layers() throws Exception {
        Path base = work.resolve("base.tar");
        exec("tar", "-C", CageHarness.ROOTFS.toString(), "-cf", base.toString(), ".");
        Path top = Files.createDirectories(work.resolve("top"));
        Files.createDirectories(top.resolve("etc/skel"));
        Files.writeString(top.resolve("etc/.wh.motd"), "");
        Files.writeString(top.resolve("etc/skel/.wh..wh..opq"), "");
        Files.writeString(top.resolve("etc/skel/kept.txt"), "kept\n");
        Path topArchive = work.resolve("top.tar.gz");
        exec("tar", "-C", top.toString(), "-czf", topArchive.toString(), "--owner=0", "--group=0", ".");
        return List.of(base, topArchive);
    }

    private static ObjectNode config() {
        ObjectNode config = Json.mapper().createObjectNode();
        config.put("architecture", "amd64").put("os", "linux").put("created", "2026-01-02T03:04:05Z");
        ObjectNode settings = config.putObject("config");
        settings.putArray("Env").add(PATH_ENV).add("FROM_IMPORT=yes");
        settings.put("WorkingDir", "/etc/skel");
        settings.putArray("Cmd").add("sh");
        settings.putObject("Volumes").putObject("/data");
        config.putObject("rootfs").put("type", "layers").putArray("diff_ids");
        return config;
    }

    private Path ociLayout(String refName) throws Exception {
        Path layout = Files.createDirectories(work.resolve("layout"));
        Files.createDirectories(layout.resolve("blobs/sha256"));
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\": \"1.0.0\"}");
        ObjectNode manifest = Json.mapper().createObjectNode();
        manifest.put("schemaVersion", 2).put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        Blob config = blob(layout, Json.write(config()).getBytes(StandardCharsets.UTF_8));
        manifest.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", config.digest()).put("size", config.size());
        ArrayNode layerDescriptors = manifest.putArray("layers");
        List<Path> layers = layers();
        for (int i = 0; i < layers.size(); i++) {
            Blob layer = blob(layout, Files.readAllBytes(layers.get(i)));
            layerDescriptors.addObject().put("mediaType", i == 0 ? "application/vnd.oci.image.layer.v1.tar"
                    : "application/vnd.oci.image.layer.v1.tar+gzip").put("digest", layer.digest()).put("size", layer.size());
        }
        Blob manifestBlob = blob(layout, Json.write(manifest).getBytes(StandardCharsets.UTF_8));
        ObjectNode index = Json.mapper().createObjectNode();
        index.put("schemaVersion", 2);
        ObjectNode descriptor = index.putArray("manifests").addObject();
        descriptor.put("mediaType", "application/vnd.oci.image.manifest.v1+json")
                .put("digest", manifestBlob.digest()).put("size", manifestBlob.size());
        descriptor.putObject("platform").put("architecture", "amd64").put("os", "linux");
        descriptor.putObject("annotations").put("org.opencontainers.image.ref.name", refName);
        Files.writeString(layout.resolve("index.json"), Json.write(index));
        return layout;
    }

    private static Blob blob(Path layout, byte[] content) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        Files.write(layout.resolve("blobs/sha256").resolve(hex), content);
        return new Blob("sha256:" + hex, content.length);
    }

    private String name(String what) {
        String name = "it-" + what + "-" + Long.toHexString(System.nanoTime());
        images.add(name);
        return name;
    }

    @Test
    void anOciLayoutRunsInACageWithItsWhiteoutsAndSettings() throws Exception {
        // The config's image key takes plain names, so the tag is the default one.
        String name = name("oci");
        Path layout = ociLayout(name + ":latest");
        CageHarness.Result imported = CageHarness.launch(List.of("image", "import", layout.toString()));
        assertEquals(0, imported.exitCode(), imported.toString());
        assertTrue(imported.stdout().contains("imported " + name + ":latest ("), imported.toString());
        CageHarness.Result inCage = ImageBuildIT.runIn(name, CHECK);
        assertEquals(EXPECTED, inCage.stdout(), inCage.toString());

        // FROM finds it in the store: nothing is pulled or made.
        Path context = Files.createDirectories(work.resolve("context"));
        Files.writeString(context.resolve("Dockerfile"), "FROM " + name + "\nRUN echo built-on-import > /etc/skel/built\n");
        String derived = name("derived");
        CageHarness.Result built = ImageBuildIT.build(derived, context);
        assertEquals(0, built.exitCode(), built.toString());
        assertEquals("built\nkept.txt\n", ImageBuildIT.runIn(derived, "ls /etc/skel").stdout());
    }

    @Test
    void anImageSavedAsAnOciLayoutAndImportedAgainRunsAsBefore() throws Exception {
        String name = name("to-save");
        assertEquals(0, CageHarness.launch(List.of("image", "import", ociLayout(name + ":latest").toString())).exitCode());
        // A built layer on top: the store's own overlayfs layer, as the builder commits it.
        Path context = Files.createDirectories(work.resolve("save-context"));
        Files.writeString(context.resolve("Dockerfile"), "FROM " + name + "\nRUN rm /etc/hostname && echo built > /etc/skel/built\n");
        String derived = name("to-save-derived");
        assertEquals(0, ImageBuildIT.build(derived, context).exitCode());

        Path saved = work.resolve("saved-layout");
        CageHarness.Result save = CageHarness.launch(List.of("image", "save", derived, "-o", saved.toString()));
        assertEquals(0, save.exitCode(), save.toString());
        assertTrue(save.stdout().contains("saved " + derived + ":latest to " + saved + ": 3 layer(s)"), save.toString());

        // The layout as the OCI spec has it: diff_ids are the digests of the layer tars, whiteouts in the OCI form.
        JsonNode index = Json.mapper().readTree(Files.readString(saved.resolve("index.json")));
        JsonNode descriptor = index.path("manifests").get(0);
        assertEquals(derived + ":latest", descriptor.path("annotations").path("io.containerd.image.name").asText());
        JsonNode manifest = Json.mapper().readTree(Files.readString(layoutBlob(saved, descriptor.path("digest").asText())));
        JsonNode config = Json.mapper().readTree(Files.readString(layoutBlob(saved, manifest.path("config").path("digest").asText())));
        List<String> listings = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String digest = manifest.path("layers").get(i).path("digest").asText();
            assertEquals(digest, config.path("rootfs").path("diff_ids").get(i).asText());
            String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                    Files.readAllBytes(layoutBlob(saved, digest))));
            assertEquals("sha256:" + hex, digest);
            listings.add(new ProcessRunner(false).run(List.of("tar", "-tvf", layoutBlob(saved, digest).toString()),
                    java.time.Duration.ofMinutes(1)).stdout());
        }
        assertTrue(listings.get(1).contains("./etc/.wh.motd") && listings.get(1).contains("./etc/skel/.wh..wh..opq"),
                listings.get(1));
        assertTrue(listings.get(2).contains("./etc/.wh.hostname") && listings.get(2).contains("./etc/skel/built"),
                listings.get(2));
        // The base has real device nodes (/dev/null is 1,3); a 0,0 one would be an overlayfs whiteout left as it was.
        assertTrue(listings.stream().noneMatch(listing -> listing.lines().anyMatch(line -> line.startsWith("c")
                && line.contains(" 0,0 "))), "no overlayfs whiteout is left in a layer tar");

        String again = name("imported-again");
        CageHarness.Result imported = CageHarness.launch(List.of("image", "import", saved.toString(), "--name", again));
        assertEquals(0, imported.exitCode(), imported.toString());
        // What a cage sees of the copy is what it sees of the original: the deletions, the opaque folder, the settings.
        String check = CHECK + "; test ! -e /etc/hostname && echo hostname-deleted";
        String expected = "motd-deleted\nbuilt\nkept.txt\n/etc/skel\nyes\nhostname-deleted\n";
        assertEquals(expected, ImageBuildIT.runIn(derived, check).stdout());
        assertEquals(expected, ImageBuildIT.runIn(again, check).stdout());
    }

    /** An imported image with a layer of the builder's own on top: deletions and an opaque folder in overlayfs form. */
    private String derivedImage(String what) throws Exception {
        String name = name(what);
        assertEquals(0, CageHarness.launch(List.of("image", "import", ociLayout(name + ":latest").toString())).exitCode());
        Path context = Files.createDirectories(work.resolve(what + "-context"));
        Files.writeString(context.resolve("Dockerfile"), "FROM " + name
                + "\nRUN rm /etc/hostname && echo built > /etc/skel/built\n");
        String derived = name(what + "-derived");
        assertEquals(0, ImageBuildIT.build(derived, context).exitCode());
        return derived;
    }

    private static final String DERIVED_CHECK = CHECK + "; test ! -e /etc/hostname && echo hostname-deleted";
    private static final String DERIVED_EXPECTED = "motd-deleted\nbuilt\nkept.txt\n/etc/skel\nyes\nhostname-deleted\n";

    private static String sha256(Path file) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                sha256.update(buffer, 0, read);
            }
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    /**
     * {@code image save -o FILE.tar}: the same image twice gives the same bytes (GNU tar's POSIX format
     * stored the access and change times, which reading the layer changes, and the tar's process id in
     * its extended header names), and the archive imports again.
     */
    @Test
    void anImageSavedAsATarIsTheSameBytesEachTimeAndImportsAgain() throws Exception {
        String derived = derivedImage("to-tar");
        Path first = work.resolve("first.tar");
        Path second = work.resolve("second.tar");
        CageHarness.Result save = CageHarness.launch(List.of("image", "save", derived, "-o", first.toString()));
        assertEquals(0, save.exitCode(), save.toString());
        assertTrue(save.stdout().contains("saved " + derived + ":latest to " + first + ": 3 layer(s)"), save.toString());
        Thread.sleep(1100);
        assertEquals(0, CageHarness.launch(List.of("image", "save", derived, "-o", second.toString())).exitCode());
        assertEquals(sha256(first), sha256(second), "two saves of the same image differ");

        String listing = new ProcessRunner(false).run(List.of("tar", "-tf", first.toString()),
                java.time.Duration.ofMinutes(1)).stdout();
        for (String entry : List.of("oci-layout", "index.json", "manifest.json", "blobs/sha256/")) {
            assertTrue(listing.lines().anyMatch(entry::equals), entry + " in " + listing);
        }
        assertTrue(Files.notExists(work.resolve("first.tar.partial")));
        try (var left = Files.list(work)) {
            assertTrue(left.noneMatch(path -> path.getFileName().toString().startsWith(".claude-cage-save")),
                    "the save left its work folder");
        }
        CageHarness.Result existing = CageHarness.launch(List.of("image", "save", derived, "-o", first.toString()));
        assertEquals(2, existing.exitCode(), existing.toString());

        String again = name("tar-imported-again");
        CageHarness.Result imported = CageHarness.launch(List.of("image", "import", first.toString(), "--name", again));
        assertEquals(0, imported.exitCode(), imported.toString());
        assertEquals(DERIVED_EXPECTED, ImageBuildIT.runIn(again, DERIVED_CHECK).stdout());
    }

    /** Debian's docker load takes the saved archive, under its name, and Docker runs it as claude-cage does. */
    @Test
    void dockerLoadsTheSavedTar() throws Exception {
        String derived = derivedImage("for-docker");
        Path archive = work.resolve("for-docker.tar");
        assertEquals(0, CageHarness.launch(List.of("image", "save", derived, "-o", archive.toString())).exitCode());
        try (DockerEngine engine = DockerEngine.start(List.of())) {
            CageHarness.Result load = engine.docker(java.time.Duration.ofMinutes(5), "load", "-i", archive.toString());
            assertEquals(0, load.exitCode(), load.toString());
            assertTrue(load.stdout().contains("Loaded image: " + derived + ":latest"), load.toString());
            // Docker mounts a /etc/hostname of its own into every container, which hides the layer's whiteout of it:
            // the whiteout of /etc/motd stands for both there.
            CageHarness.Result run = engine.docker(java.time.Duration.ofMinutes(2), "run", "--rm", "--network", "none",
                    derived + ":latest", "sh", "-c", CHECK);
            assertEquals(0, run.exitCode(), run.toString());
            assertEquals(DERIVED_EXPECTED.replace("hostname-deleted\n", ""), run.stdout());
        }
    }

    private static Path layoutBlob(Path layout, String digest) {
        return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    @Test
    void aDockerSaveArchiveIsImportedUnderItsRepoTag() throws Exception {
        Path archive = Files.createDirectories(work.resolve("saved"));
        List<Path> layers = layers();
        List<String> layerNames = new ArrayList<>();
        ArrayNode diffIds = Json.mapper().createArrayNode();
        for (int i = 0; i < layers.size(); i++) {
            Path directory = Files.createDirectories(archive.resolve("layer" + i));
            Files.copy(layers.get(i), directory.resolve("layer.tar"));
            layerNames.add("layer" + i + "/layer.tar");
            diffIds.add("sha256:" + "0".repeat(64));
        }
        ObjectNode config = config();
        ((ObjectNode) config.get("rootfs")).set("diff_ids", diffIds);
        Files.writeString(archive.resolve("config.json"), Json.write(config));
        String name = name("saved");
        ArrayNode manifest = Json.mapper().createArrayNode();
        ObjectNode entry = manifest.addObject().put("Config", "config.json");
        entry.putArray("RepoTags").add(name + ":latest");
        layerNames.forEach(entry.putArray("Layers")::add);
        Files.writeString(archive.resolve("manifest.json"), Json.write(manifest));
        Path tar = work.resolve("saved.tar");
        exec("tar", "-C", archive.toString(), "-cf", tar.toString(), ".");

        CageHarness.Result imported = CageHarness.launch(List.of("image", "import", tar.toString()));
        assertEquals(0, imported.exitCode(), imported.toString());
        assertEquals(EXPECTED, ImageBuildIT.runIn(name, CHECK).stdout());
    }

    @Test
    void aDamagedBlobIsRefused() throws Exception {
        Path layout = ociLayout(name("damaged") + ":latest");
        try (var blobs = Files.list(layout.resolve("blobs/sha256"))) {
            for (Path blob : blobs.toList()) {
                if (Files.size(blob) > 1_000_000) {
                    Files.write(blob, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
                }
            }
        }
        CageHarness.Result imported = CageHarness.launch(List.of("image", "import", layout.toString()));
        assertEquals(2, imported.exitCode(), imported.toString());
        assertTrue(imported.stderr().contains("does not match its digest"), imported.toString());
    }

    private static void exec(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
