package dev.claudecage.image.build;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.claudecage.UserInputException;
import dev.claudecage.host.FileLock;
import dev.claudecage.image.archive.ImageImporter;
import dev.claudecage.image.registry.FakeRegistry;
import dev.claudecage.image.registry.ImageReference;
import dev.claudecage.image.registry.RegistryAccess;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.StoredImage;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pull as a whole, against an in-process registry: which manifest, which blobs, what is refused. */
class ImagePullerTest {

    private static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    private static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

    @TempDir
    Path dir;

    private final FakeRegistry registry = newRegistry();
    private ImageStore store;
    private FileLock lock;
    private final List<String> notes = new ArrayList<>();

    private static FakeRegistry newRegistry() {
        try {
            return new FakeRegistry();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeEach
    void openStore() {
        store = new ImageStore(dir.resolve("images"));
        lock = store.lock(message -> { });
    }

    @AfterEach
    void close() {
        lock.close();
        registry.close();
    }

    private StoredImage pull(String repositoryAndTag) {
        ImagePuller puller = new ImagePuller(store, new ImageImporter(store, new ProcessRunner(false)),
                new RegistryAccess(List.of()));
        return puller.pull(ImageReference.parse(registry.hostPort() + "/" + repositoryAndTag), notes::add);
    }

    /** Serves {@code content} as a blob of it/img and returns its descriptor. */
    private ObjectNode blob(String mediaType, byte[] content) {
        Digest digest = Digest.of(content);
        registry.route("/v2/it/img/blobs/" + digest, new FakeRegistry.Answer(200, Map.of(), content));
        return Json.mapper().createObjectNode().put("mediaType", mediaType).put("digest", digest.toString())
                .put("size", content.length);
    }

    private Digest manifest(String reference, String mediaType, ObjectNode body) {
        byte[] bytes = Json.write(body.put("mediaType", mediaType)).getBytes(StandardCharsets.UTF_8);
        registry.route("/v2/it/img/manifests/" + reference, FakeRegistry.Answer.of(200,
                new String(bytes, StandardCharsets.UTF_8), "Content-Type", mediaType));
        Digest digest = Digest.of(bytes);
        registry.route("/v2/it/img/manifests/" + digest, FakeRegistry.Answer.of(200,
                new String(bytes, StandardCharsets.UTF_8), "Content-Type", mediaType));
        return digest;
    }

    /** A gzip layer with one file, owned by whoever runs the test (so GNU tar can keep the owner). */
    private byte[] gzipLayer(String file, String content) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree-" + file));
        Files.writeString(tree.resolve(file), content);
        Path archive = dir.resolve(file + ".tar.gz");
        long uid = (Integer) Files.getAttribute(tree, "unix:uid");
        long gid = (Integer) Files.getAttribute(tree, "unix:gid");
        Process tar = new ProcessBuilder("tar", "-C", tree.toString(), "-czf", archive.toString(), "--owner=" + uid,
                "--group=" + gid, "--numeric-owner", file).redirectErrorStream(true).start();
        String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, tar.waitFor(), output);
        return Files.readAllBytes(archive);
    }

    private ObjectNode imageManifest(String architecture, ObjectNode... layers) {
        ObjectNode config = Json.mapper().createObjectNode().put("architecture", architecture).put("os", "linux");
        config.putObject("config").putArray("Env").add("FROM_PULL=yes");
        ObjectNode manifest = Json.mapper().createObjectNode().put("schemaVersion", 2);
        manifest.set("config", blob("application/vnd.docker.container.image.v1+json",
                Json.write(config).getBytes(StandardCharsets.UTF_8)));
        ArrayNode descriptors = manifest.putArray("layers");
        for (ObjectNode layer : layers) {
            descriptors.add(layer);
        }
        return manifest;
    }

    private ObjectNode list(Map<String, Digest> manifestsByArchitecture) {
        ObjectNode list = Json.mapper().createObjectNode().put("schemaVersion", 2);
        ArrayNode entries = list.putArray("manifests");
        manifestsByArchitecture.forEach((architecture, digest) -> entries.addObject().put("mediaType", DOCKER_MANIFEST)
                .put("digest", digest.toString()).put("size", 1)
                .putObject("platform").put("os", "linux").put("architecture", architecture));
        return list;
    }

    @Test
    void aManifestListIsNarrowedToThisHostAndOnlyItsBlobsAreFetched() throws Exception {
        byte[] amd64Layer = gzipLayer("amd64.txt", "the host's\n");
        byte[] arm64Layer = gzipLayer("arm64.txt", "not fetched\n");
        Digest arm64 = manifest("arm", DOCKER_MANIFEST, imageManifest("arm64",
                blob("application/vnd.docker.image.rootfs.diff.tar.gzip", arm64Layer)));
        Digest amd64 = manifest("amd", DOCKER_MANIFEST, imageManifest("amd64",
                blob("application/vnd.docker.image.rootfs.diff.tar.gzip", amd64Layer)));
        manifest("1", DOCKER_LIST, list(Map.of("arm64", arm64)));
        Map<String, Digest> decoyFirst = new LinkedHashMap<>();
        decoyFirst.put("arm64", arm64);
        decoyFirst.put("amd64", amd64);
        manifest("2", DOCKER_LIST, list(decoyFirst));
        registry.route("/v2/", FakeRegistry.Answer.of(200, "{}"));

        StoredImage pulled = pull("it/img:2");

        assertEquals(1, pulled.layerDirectories().size());
        assertEquals("the host's\n", Files.readString(pulled.layerDirectories().get(0).resolve("amd64.txt")));
        assertEquals(List.of("FROM_PULL=yes"), pulled.config().config().env());
        assertEquals(pulled.id(), store.names().get(new ImageName(registry.hostPort() + "/it/img", "2")));
        assertTrue(notes.contains(registry.hostPort() + "/it/img:2 is an index of 2 manifests; linux/amd64 is " + amd64),
                notes.toString());
        assertFalse(registry.requests().stream().anyMatch(request -> request.pathAndQuery().contains(Digest.of(arm64Layer)
                .toString()) || request.pathAndQuery().endsWith(arm64.toString())), registry.requests().toString());
        assertEquals(List.of(), Files.list(dir.resolve("images/tmp")).toList(), "the pull's work directory is gone");

        UserInputException armOnly = assertThrows(UserInputException.class, () -> pull("it/img:1"));
        assertEquals(registry.hostPort() + "/it/img:1 has no manifest for linux/amd64 (it has [linux/arm64])",
                armOnly.getMessage());
    }

    @Test
    void whatIsNotAnImageOrCannotBeUnpackedIsRefusedBeforeAnyLayerIsFetched() throws Exception {
        registry.route("/v2/", FakeRegistry.Answer.of(200, "{}"));
        manifest("schema1", "application/vnd.docker.distribution.manifest.v1+prettyjws",
                Json.mapper().createObjectNode().put("schemaVersion", 1));
        UserInputException schema1 = assertThrows(UserInputException.class, () -> pull("it/img:schema1"));
        assertTrue(schema1.getMessage().contains("is a Docker schema 1 manifest (deprecated since 2017), not a container "
                + "image claude-cage can pull"), schema1.getMessage());

        byte[] layer = gzipLayer("z.txt", "zstd in name only\n");
        manifest("zstd", DOCKER_MANIFEST, imageManifest("amd64", blob("application/vnd.oci.image.layer.v1.tar+zstd", layer)));
        UserInputException zstd = assertThrows(UserInputException.class, () -> pull("it/img:zstd"));
        assertEquals("a layer of " + registry.hostPort() + "/it/img:zstd has the media type "
                + "'application/vnd.oci.image.layer.v1.tar+zstd'", zstd.getMessage());
        assertEquals("zstd layers are not unpacked here; pull a gzip variant of the image", zstd.hint());
        assertFalse(registry.requests().stream().anyMatch(request -> request.pathAndQuery().endsWith(Digest.of(layer)
                .toString())), "the zstd layer was not downloaded");

        ObjectNode artifact = imageManifest("amd64");
        artifact.set("config", blob("application/vnd.cncf.helm.config.v1+json", "{}".getBytes(StandardCharsets.UTF_8)));
        manifest("chart", "application/vnd.oci.image.manifest.v1+json", artifact);
        UserInputException chart = assertThrows(UserInputException.class, () -> pull("it/img:chart"));
        assertEquals("a config of " + registry.hostPort() + "/it/img:chart has the media type "
                + "'application/vnd.cncf.helm.config.v1+json'", chart.getMessage());
        assertTrue(store.names().isEmpty());
    }

    @Test
    void mirrorsAreTriedInOrderBeforeTheRegistryAndAFailedOneIsPassedOver() throws Exception {
        byte[] layer = gzipLayer("mirrored.txt", "from the mirror\n");
        manifest("1", DOCKER_MANIFEST, imageManifest("amd64", blob("application/vnd.docker.image.rootfs.diff.tar.gzip",
                layer)));
        registry.route("/v2/", FakeRegistry.Answer.of(200, "{}"));
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        java.net.URI unreachable = java.net.URI.create("http://127.0.0.1:" + closedPort);
        java.net.URI mirror = java.net.URI.create("http://" + registry.hostPort());
        RegistryAccess access = new RegistryAccess(List.of(), Map.of("docker.io", List.of(unreachable, mirror)));
        ImagePuller puller = new ImagePuller(store, new ImageImporter(store, new ProcessRunner(false)), access);

        // docker.io itself is never reached: the second mirror has the image.
        StoredImage pulled = puller.pull(ImageReference.parse("it/img:1"), notes::add);

        assertEquals("from the mirror\n", Files.readString(pulled.layerDirectories().get(0).resolve("mirrored.txt")));
        assertEquals(pulled.id(), store.names().get(new ImageName("it/img", "1")), "named as docker.io's image");
        assertTrue(notes.stream().anyMatch(note -> note.startsWith("mirror " + unreachable + " failed: ")), notes.toString());
        assertTrue(notes.contains("pulling docker.io/it/img:1 from " + mirror), notes.toString());
    }

    @Test
    void whenEveryMirrorFailsTheRegistryItselfIsPulledFromAndAPlainHttpMirrorElsewhereIsRefused() throws Exception {
        byte[] layer = gzipLayer("upstream.txt", "from the registry\n");
        manifest("1", DOCKER_MANIFEST, imageManifest("amd64", blob("application/vnd.docker.image.rootfs.diff.tar.gzip",
                layer)));
        registry.route("/v2/", FakeRegistry.Answer.of(200, "{}"));
        try (FakeRegistry emptyMirror = new FakeRegistry()) {
            emptyMirror.route("/v2/", FakeRegistry.Answer.of(200, "{}"));
            java.net.URI remotePlain = java.net.URI.create("http://mirror.example:5000");
            RegistryAccess access = new RegistryAccess(List.of(), Map.of(registry.hostPort(),
                    List.of(remotePlain, java.net.URI.create("http://" + emptyMirror.hostPort()))));
            ImagePuller puller = new ImagePuller(store, new ImageImporter(store, new ProcessRunner(false)), access);

            StoredImage pulled = puller.pull(ImageReference.parse(registry.hostPort() + "/it/img:1"), notes::add);

            assertEquals("from the registry\n", Files.readString(pulled.layerDirectories().get(0).resolve("upstream.txt")));
            assertTrue(emptyMirror.requests().stream().anyMatch(request -> request.pathAndQuery().equals("/v2/it/img/manifests/1")),
                    "the mirror was asked first: " + emptyMirror.requests());
            assertTrue(notes.contains("mirror " + remotePlain + ": plain http, and mirror.example:5000 is neither on "
                    + "loopback nor in insecure_registries"), notes.toString());
        }
    }
}
