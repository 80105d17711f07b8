package dev.claudecage.image.store;

import dev.claudecage.UserInputException;
import dev.claudecage.host.FileLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageStoreTest {

    @TempDir
    Path dir;

    private ImageStore store;
    private FileLock lock;

    @BeforeEach
    void lockTheStore() {
        store = new ImageStore(dir.resolve("lib/images"));
        lock = store.lock(message -> { });
    }

    @AfterEach
    void release() {
        lock.close();
    }

    private static Path layerWith(ImageStore store, String file, String content) throws Exception {
        Path layer = store.createWorkDirectory("test");
        Files.writeString(layer.resolve(file), content);
        Files.setLastModifiedTime(layer.resolve(file), FileTime.fromMillis(1_000_000));
        return layer;
    }

    private static ImageConfig imageOf(Digest... layers) {
        ImageConfig config = new ImageConfig("amd64", ImageConfig.LINUX, null, null, ImageConfig.Settings.EMPTY, null, null);
        for (Digest layer : layers) {
            config = config.withStep(layer, new ImageConfig.History("2026-01-01T00:00:00Z", "test", null));
        }
        return config;
    }

    @Test
    void layersAreNamedByTheirContentAndStoredOnce() throws Exception {
        LayerDigest.Result first = store.commitLayer(layerWith(store, "a.txt", "hello"));
        LayerDigest.Result same = store.commitLayer(layerWith(store, "a.txt", "hello"));
        LayerDigest.Result other = store.commitLayer(layerWith(store, "a.txt", "hello!"));
        assertEquals(first.digest(), same.digest());
        assertNotEquals(first.digest(), other.digest());
        assertEquals(5, first.size());
        assertEquals("hello", Files.readString(store.layerDirectory(first.digest()).resolve("a.txt")));
        store.clearWorkDirectories(problem -> { throw new AssertionError(problem); });
        assertEquals(List.of(), List.of(dir.resolve("lib/images/tmp").toFile().list()), "nothing is left in tmp");
    }

    @Test
    void theDigestCoversModeAndOwnerNotJustContent() throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        for (Path layer : List.of(a, b)) {
            Files.writeString(layer.resolve("tool"), "#!/bin/sh\n");
            Files.setLastModifiedTime(layer.resolve("tool"), FileTime.fromMillis(0));
        }
        assertEquals(LayerDigest.of(a).digest(), LayerDigest.of(b).digest());
        Files.setPosixFilePermissions(b.resolve("tool"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        assertNotEquals(LayerDigest.of(a).digest(), LayerDigest.of(b).digest());
    }

    @Test
    void imagesAreFoundByNameOrIdPrefix() throws Exception {
        Digest layer = store.commitLayer(layerWith(store, "a.txt", "x")).digest();
        Digest id = store.commitImage(imageOf(layer));
        store.tag(ImageName.parse("cli"), id);
        StoredImage image = store.find("cli:latest").orElseThrow();
        assertEquals(id, image.id());
        assertEquals(List.of(store.layerDirectory(layer)), image.layerDirectories());
        assertEquals(id, store.find(id.hex().substring(0, 8)).orElseThrow().id());
        assertEquals(id, store.find(id.toString()).orElseThrow().id());
        assertTrue(store.find("desktop").isEmpty());
        // A registry reference by digest is not a store name; the builder looks up its local name instead.
        assertTrue(store.find("cli@sha256:" + id.hex()).isEmpty());
        assertEquals(1, store.list().size());
        assertEquals("cli:latest", store.list().get(0).name());
        assertEquals(1, store.list().get(0).size());
    }

    @Test
    void removingTheLastNameRemovesTheImageAndItsOwnLayers() throws Exception {
        Digest shared = store.commitLayer(layerWith(store, "base", "base")).digest();
        Digest own = store.commitLayer(layerWith(store, "own", "own")).digest();
        Digest cli = store.commitImage(imageOf(shared, own));
        Digest other = store.commitImage(imageOf(shared));
        store.tag(ImageName.parse("cli"), cli);
        store.tag(ImageName.parse("cli:v1"), cli);
        store.tag(ImageName.parse("other"), other);

        ImageStore.Removal untagged = store.remove("cli:v1");
        assertEquals(0, untagged.layers(), "another name still points at the image");
        ImageStore.Removal removed = store.remove("cli");
        assertEquals(1, removed.layers());
        assertFalse(store.hasLayer(own));
        assertTrue(store.hasLayer(shared), "the other image still uses it");
        assertTrue(store.find("other").isPresent());
        assertThrows(UserInputException.class, () -> store.remove("cli"));
        assertThrows(UserInputException.class, () -> store.remove(other.hex()), "a named image goes by its names");
        Digest third = store.commitLayer(layerWith(store, "third", "3")).digest();
        Digest unnamed = store.commitImage(imageOf(shared, third));
        ImageStore.Removal byId = store.remove(unnamed.hex().substring(0, 12));
        assertEquals(1, byId.layers());
        assertTrue(store.image(unnamed).isEmpty());
        assertTrue(store.hasLayer(shared));
    }

    @Test
    void pruneRemovesUnnamedImagesUnusedLayersAndStaleCacheEntries() throws Exception {
        Digest kept = store.commitLayer(layerWith(store, "kept", "1")).digest();
        Digest cacheOnly = store.commitLayer(layerWith(store, "intermediate", "2")).digest();
        Digest oldLayer = store.commitLayer(layerWith(store, "old", "3")).digest();
        store.tag(ImageName.parse("cli"), store.commitImage(imageOf(kept)));
        store.commitImage(imageOf(kept, oldLayer));
        Digest key = Digest.of("a step");
        store.cache().record(key, new BuildCache.Entry(cacheOnly, "2026-01-01T00:00:00Z"));
        Digest settingsKey = Digest.of("a step without a layer");
        store.cache().record(settingsKey, new BuildCache.Entry(null, "2026-01-01T00:00:00Z"));
        assertTrue(store.cache().lookup(key).isPresent());

        ImageStore.Removal pruned = store.prune();
        assertEquals(1, pruned.images().size());
        assertEquals(2, pruned.layers());
        assertTrue(store.hasLayer(kept));
        assertFalse(store.hasLayer(cacheOnly));
        assertFalse(store.hasLayer(oldLayer));
        assertTrue(store.cache().lookup(key).isEmpty(), "an entry whose layer is gone is a miss");
        assertTrue(store.cache().lookup(settingsKey).isPresent());
        assertEquals(1, store.list().size());
    }

    @Test
    void namesAreNormalisedAndValidated() {
        assertEquals("cli:latest", ImageName.parse("cli").toString());
        assertEquals("debian:bookworm", ImageName.parse("docker.io/library/debian:bookworm").toString());
        assertEquals("localhost:5000/tools/cli:1.0", ImageName.parse("localhost:5000/tools/cli:1.0").toString());
        for (String bad : List.of("../etc", "CLI", "cli:", "a//b", "cli@sha256:00", "cli:bad tag", "")) {
            assertThrows(UserInputException.class, () -> ImageName.parse(bad), bad);
        }
    }

    @Test
    void imageConfigIsOciJson() throws Exception {
        ImageConfig config = imageOf(Digest.of("layer")).withSettings(ImageConfig.Settings.EMPTY
                .withEnv("PATH", "/usr/bin").withUser("claude").withWorkingDir("/workspace")
                .withCmd(List.of("claude")).withExposedPort("6080/tcp").withLabel("a", "b"));
        String json = dev.claudecage.json.Json.write(config);
        assertTrue(json.contains("\"Env\" : [ \"PATH=/usr/bin\" ]"), json);
        assertTrue(json.contains("\"ExposedPorts\" : {\n      \"6080/tcp\" : { }"), json);
        assertTrue(json.contains("\"diff_ids\" : [ \"sha256:"), json);
        assertEquals(config, dev.claudecage.json.Json.read(json, ImageConfig.class));
        assertEquals(Map.of("PATH", "/usr/bin"), config.config().envMap());
    }
}
