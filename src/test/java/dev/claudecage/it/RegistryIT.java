package dev.claudecage.it;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pulls over the OCI distribution API from a real registry on loopback (Debian's docker-registry,
 * with token authentication and a token service of the test's own, see {@link TestRegistry}),
 * of an image the test pushes itself: a multi-platform index (a decoy linux/arm64 first, then
 * linux/amd64) whose amd64 image has an uncompressed base layer (the minbase rootfs) and two
 * gzip layers, the upper one deleting a file with a whiteout and hiding a directory's contents
 * with an opaque marker. The same image goes up once as an OCI index and once as a Docker
 * manifest list of Docker schema 2 manifests.
 */
class RegistryIT {

    private static final String PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final String REPOSITORY = "it/img";
    /** What a cage must see: the whiteout deleted gone.txt, the opaque directory hid /etc/skel's files, no decoy. */
    private static final String CHECK = "test ! -e /opt/it/gone.txt && echo gone-is-gone; cat /opt/it/stays.txt; "
            + "ls -A /etc/skel; test ! -e /DECOY && echo no-decoy; echo $FROM_REGISTRY; pwd";
    private static final String EXPECTED = "gone-is-gone\nstays\nkept.txt\nno-decoy\nyes\n/opt/it\n";
    private static final Duration PULL_TIMEOUT = Duration.ofMinutes(5);

    @TempDir
    static Path shared;

    private static TestRegistry registry;
    /** The amd64 image manifests, OCI and Docker, by their digests. */
    private static String ociManifestDigest;
    private static String dockerManifestDigest;

    @TempDir
    Path work;

    private final List<String> images = new ArrayList<>();
    private List<String> leftoversBefore;

    @BeforeAll
    static void startRegistryAndPush() throws Exception {
        CageHarness.requireRootAndRootfs();
        boolean installed = Files.isExecutable(Path.of(TestRegistry.BINARY));
        if (!installed) {
            System.out.println("SKIPPED: no " + TestRegistry.BINARY + " (apt-get install docker-registry; "
                    + "scripts/install-deps.sh installs it)");
        }
        Assumptions.assumeTrue(installed, "no " + TestRegistry.BINARY + " (apt-get install docker-registry)");
        registry = TestRegistry.start(Files.createDirectories(shared.resolve("registry")));
        push(Files.createDirectories(shared.resolve("image")));
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    @BeforeEach
    void recordLeftovers() throws Exception {
        leftoversBefore = CageHarness.leftovers();
    }

    @AfterEach
    void removeImages() throws Exception {
        ImageBuildIT.removeImages(images);
        assertEquals(List.of(), ImageBuildIT.newLeftovers(leftoversBefore), "the test left something behind");
        assertEquals(List.of(), ImageBuildIT.children(ImageBuildIT.STORE.resolve("tmp")));
        try (Stream<String> names = CageHarness.launch(List.of("images")).stdout().lines()) {
            assertEquals(List.of(), names.filter(line -> line.startsWith(registry.hostPort())).toList(),
                    "pulled images left in the store");
        }
    }

    private String named(String name) {
        images.add(name);
        return name;
    }

    private String freshName(String what) {
        return named("it-" + what + "-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(4)));
    }

    // ---- the image, pushed once

    private record Layer(Path archive, String diffId) {
    }

    private static void push(Path dir) throws Exception {
        Layer base = layer(dir, "base", CageHarness.ROOTFS, false);
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Files.createDirectories(upper.resolve("opt/it"));
        Files.createDirectories(upper.resolve("etc/skel"));
        Files.writeString(upper.resolve("opt/it/gone.txt"), "gone\n");
        Files.writeString(upper.resolve("opt/it/stays.txt"), "stays\n");
        Files.writeString(upper.resolve("etc/skel/a.txt"), "hidden by the opaque directory\n");
        Layer files = layer(dir, "files", upper, true);
        Path top = Files.createDirectories(dir.resolve("top"));
        Files.createDirectories(top.resolve("opt/it"));
        Files.createDirectories(top.resolve("etc/skel"));
        Files.writeString(top.resolve("opt/it/.wh.gone.txt"), "");
        Files.writeString(top.resolve("etc/skel/.wh..wh..opq"), "");
        Files.writeString(top.resolve("etc/skel/kept.txt"), "kept\n");
        Layer deletions = layer(dir, "deletions", top, true);
        Path decoyTree = Files.createDirectories(dir.resolve("decoy"));
        Files.writeString(decoyTree.resolve("DECOY"), "arm64 only\n");
        Layer decoy = layer(dir, "decoy", decoyTree, true);

        RegistryPush push = new RegistryPush(registry, REPOSITORY);
        List<Layer> layers = List.of(base, files, deletions);
        List<RegistryPush.Blob> blobs = new ArrayList<>();
        for (Layer layer : layers) {
            blobs.add(push.blob(layer.archive()));
        }
        RegistryPush.Blob config = push.blob(config("amd64", layers).getBytes(StandardCharsets.UTF_8));
        RegistryPush.Blob decoyLayer = push.blob(decoy.archive());
        RegistryPush.Blob decoyConfig = push.blob(config("arm64", List.of(decoy)).getBytes(StandardCharsets.UTF_8));

        for (boolean oci : new boolean[] {true, false}) {
            String manifestType = oci ? "application/vnd.oci.image.manifest.v1+json"
                    : "application/vnd.docker.distribution.manifest.v2+json";
            byte[] amd64 = manifest(oci, config, blobs, List.of(false, true, true));
            byte[] arm64 = manifest(oci, decoyConfig, List.of(decoyLayer), List.of(true));
            String amd64Digest = push.manifest(RegistryPush.digest(amd64), manifestType, amd64);
            String arm64Digest = push.manifest(RegistryPush.digest(arm64), manifestType, arm64);
            ObjectNode index = Json.mapper().createObjectNode().put("schemaVersion", 2);
            String indexType = oci ? "application/vnd.oci.image.index.v1+json"
                    : "application/vnd.docker.distribution.manifest.list.v2+json";
            index.put("mediaType", indexType);
            ArrayNode entries = index.putArray("manifests");
            entries.addObject().put("mediaType", manifestType).put("digest", arm64Digest).put("size", arm64.length)
                    .putObject("platform").put("architecture", "arm64").put("os", "linux").put("variant", "v8");
            entries.addObject().put("mediaType", manifestType).put("digest", amd64Digest).put("size", amd64.length)
                    .putObject("platform").put("architecture", "amd64").put("os", "linux");
            push.manifest(oci ? "oci" : "docker", indexType, Json.write(index).getBytes(StandardCharsets.UTF_8));
            if (oci) {
                ociManifestDigest = amd64Digest;
                ObjectNode armOnly = index.deepCopy();
                ((ArrayNode) armOnly.get("manifests")).remove(1);
                push.manifest("arm64-only", indexType, Json.write(armOnly).getBytes(StandardCharsets.UTF_8));
            } else {
                dockerManifestDigest = amd64Digest;
            }
        }
    }

    /** A layer archive of {@code tree}, owned by root, and its diff_id (the digest of the uncompressed tar). */
    private static Layer layer(Path dir, String name, Path tree, boolean gzip) throws Exception {
        Path tar = dir.resolve(name + ".tar");
        exec("tar", "-C", tree.toString(), "-cf", tar.toString(), "--owner=0", "--group=0", "--numeric-owner", ".");
        String diffId = RegistryPush.digest(Files.readAllBytes(tar));
        if (!gzip) {
            return new Layer(tar, diffId);
        }
        exec("gzip", "-n", tar.toString());
        return new Layer(dir.resolve(name + ".tar.gz"), diffId);
    }

    private static String config(String architecture, List<Layer> layers) {
        ObjectNode config = Json.mapper().createObjectNode();
        config.put("architecture", architecture).put("os", "linux").put("created", "2026-01-02T03:04:05Z");
        ObjectNode settings = config.putObject("config");
        settings.putArray("Env").add(PATH_ENV).add("FROM_REGISTRY=yes");
        settings.put("WorkingDir", "/opt/it");
        settings.putArray("Cmd").add("sh");
        ArrayNode diffIds = config.putObject("rootfs").put("type", "layers").putArray("diff_ids");
        layers.forEach(layer -> diffIds.add(layer.diffId()));
        return Json.write(config);
    }

    private static byte[] manifest(boolean oci, RegistryPush.Blob config, List<RegistryPush.Blob> layers,
                                   List<Boolean> gzipped) {
        ObjectNode manifest = Json.mapper().createObjectNode().put("schemaVersion", 2);
        manifest.put("mediaType", oci ? "application/vnd.oci.image.manifest.v1+json"
                : "application/vnd.docker.distribution.manifest.v2+json");
        manifest.putObject("config").put("mediaType", oci ? "application/vnd.oci.image.config.v1+json"
                : "application/vnd.docker.container.image.v1+json").put("digest", config.digest()).put("size", config.size());
        ArrayNode descriptors = manifest.putArray("layers");
        for (int i = 0; i < layers.size(); i++) {
            String type = oci ? "application/vnd.oci.image.layer.v1.tar" + (gzipped.get(i) ? "+gzip" : "")
                    : "application/vnd.docker.image.rootfs.diff.tar" + (gzipped.get(i) ? ".gzip" : "");
            descriptors.addObject().put("mediaType", type).put("digest", layers.get(i).digest())
                    .put("size", layers.get(i).size());
        }
        return Json.write(manifest).getBytes(StandardCharsets.UTF_8);
    }

    // ---- the tests

    private CageHarness.Result pull(String reference) {
        return CageHarness.launch(List.of("image", "pull", reference), "", Map.of(), PULL_TIMEOUT);
    }

    private static CageHarness.Result build(String name, Path context) {
        return ImageBuildIT.build(name, context);
    }

    private Path context(String dockerfile) throws IOException {
        Path context = Files.createDirectories(work.resolve("context-" + Long.toHexString(System.nanoTime())));
        Files.writeString(context.resolve("Dockerfile"), dockerfile);
        return context;
    }

    @Test
    void imagePullTakesLinuxAmd64OutOfAnOciIndexWithAnonymousTokensAndItRunsWithItsWhiteouts() throws Exception {
        int tokensBefore = registry.tokenRequests().size();
        String reference = registry.hostPort() + "/" + REPOSITORY + ":oci";
        named(reference);
        CageHarness.Result pulled = pull(reference);
        System.out.print(pulled.stdout());

        assertEquals(0, pulled.exitCode(), pulled.toString());
        assertTrue(pulled.stdout().contains("pulling " + reference + " from http://" + registry.hostPort()), pulled.toString());
        assertTrue(pulled.stdout().contains(reference + " is an index of 2 manifests; linux/amd64 is " + ociManifestDigest),
                pulled.toString());
        assertTrue(pulled.stdout().contains("layer 3/3: downloaded "), pulled.toString());
        assertTrue(pulled.stdout().contains("pulled " + reference + " ("), pulled.toString());
        // The CLI asked the registry's token service for a pull token, without credentials.
        List<TestRegistry.TokenRequest> tokens = registry.tokenRequests().subList(tokensBefore, registry.tokenRequests().size());
        assertEquals(List.of(new TestRegistry.TokenRequest("repository:" + REPOSITORY + ":pull", "claude-cage-it-registry",
                false)), tokens);

        // FROM finds the pulled image in the store: no second pull.
        String derived = freshName("pulled-oci");
        CageHarness.Result built = build(derived, context("FROM " + reference + "\nENV DERIVED=1\n"));
        assertEquals(0, built.exitCode(), built.toString());
        assertTrue(built.stdout().contains("[1/2] from the cache"), built.toString());
        assertEquals(tokensBefore + 1, registry.tokenRequests().size());
        CageHarness.Result inCage = ImageBuildIT.runIn(derived, CHECK);
        assertEquals(EXPECTED, inCage.stdout(), inCage.toString());
    }

    @Test
    void aBuildPullsItsFromOutOfADockerManifestListAndRunsOnTopOfIt() throws Exception {
        String reference = registry.hostPort() + "/" + REPOSITORY + ":docker";
        named(reference);
        String derived = freshName("pulled-docker");
        CageHarness.Result built = build(derived, context("FROM " + reference + "\n"
                + "RUN test ! -e /opt/it/gone.txt && echo built-on-a-pull > /opt/it/built.txt\n"));

        assertEquals(0, built.exitCode(), built.toString());
        assertTrue(built.stdout().contains("[1/2] FROM " + reference), built.toString());
        assertTrue(built.stdout().contains("is an index of 2 manifests; linux/amd64 is " + dockerManifestDigest),
                built.toString());
        assertTrue(built.stdout().contains("[1/2] done in "), built.toString());
        CageHarness.Result inCage = ImageBuildIT.runIn(derived, CHECK + "; cat /opt/it/built.txt");
        assertEquals(EXPECTED + "built-on-a-pull\n", inCage.stdout(), inCage.toString());
    }

    @Test
    void aPullByDigestChecksTheManifestAndIsNamedByItAndFromFindsIt() throws Exception {
        String reference = registry.hostPort() + "/" + REPOSITORY + "@" + ociManifestDigest;
        String localName = registry.hostPort() + "/" + REPOSITORY + ":sha256-" + ociManifestDigest.substring(7);
        named(localName);
        CageHarness.Result pulled = pull(reference);
        assertEquals(0, pulled.exitCode(), pulled.toString());
        assertFalse(pulled.stdout().contains("is an index"), pulled.toString());
        assertTrue(pulled.stdout().contains("pulled " + localName + " ("), pulled.toString());

        int tokensBefore = registry.tokenRequests().size();
        String derived = freshName("by-digest");
        CageHarness.Result built = build(derived, context("FROM " + reference + "\nENV DERIVED=1\n"));
        assertEquals(0, built.exitCode(), built.toString());
        assertTrue(built.stdout().contains("[1/2] from the cache"), built.toString());
        assertEquals(tokensBefore, registry.tokenRequests().size(), "the registry was asked again");
    }

    @Test
    void anUnknownTagFailsThePullAndTheBuildNamesEveryPlaceItLooked() throws Exception {
        String reference = registry.hostPort() + "/" + REPOSITORY + ":missing";
        CageHarness.Result pulled = pull(reference);
        assertEquals(2, pulled.exitCode(), pulled.toString());
        assertTrue(pulled.stderr().contains("claude-cage: " + registry.hostPort() + " has no image " + REPOSITORY
                + ":missing (MANIFEST_UNKNOWN: manifest unknown)"), pulled.toString());

        String name = freshName("never");
        CageHarness.Result built = build(name, context("FROM " + reference + "\n"));
        assertEquals(2, built.exitCode(), built.toString());
        assertTrue(built.stderr().contains("the image '" + reference + "' is not in the store, debootstrap makes only "
                + "debian:SUITE[-slim], and the pull from " + registry.hostPort() + " failed: "), built.toString());
        assertTrue(built.stderr().contains("claude-cage image import image.tar --name " + reference), built.toString());
        assertTrue(built.stdout().contains("[1/1] failed after"), built.toString());
    }

    @Test
    void anIndexWithoutLinuxAmd64IsRefusedWithThePlatformsItHas() {
        String reference = registry.hostPort() + "/" + REPOSITORY + ":arm64-only";
        CageHarness.Result pulled = pull(reference);
        assertEquals(2, pulled.exitCode(), pulled.toString());
        assertTrue(pulled.stderr().contains("claude-cage: " + reference + " has no manifest for linux/amd64 (it has "
                + "[linux/arm64/v8])"), pulled.toString());
    }

    @Test
    void aPrivateImageIsPulledWithTheCredentialsOfAnAuthFileAndRefusedWithout() throws Exception {
        String repository = TestRegistry.PRIVATE_PREFIX + "img";
        RegistryPush push = new RegistryPush(registry, repository);
        Path tree = Files.createDirectories(work.resolve("private-tree"));
        Files.writeString(tree.resolve("secret.txt"), "private\n");
        Layer layer = layer(work, "private", tree, true);
        RegistryPush.Blob blob = push.blob(layer.archive());
        RegistryPush.Blob config = push.blob(config("amd64", List.of(layer)).getBytes(StandardCharsets.UTF_8));
        push.manifest("1", "application/vnd.oci.image.manifest.v1+json", manifest(true, config, List.of(blob), List.of(true)));
        String reference = registry.hostPort() + "/" + repository + ":1";
        named(reference);

        // Without credentials (an auth file with none for this registry): refused, and told how to log in.
        Path empty = Files.writeString(work.resolve("empty-auth.json"), "{\"auths\":{}}");
        CageHarness.Result anonymous = CageHarness.launch(List.of("image", "pull", reference), "",
                Map.of("REGISTRY_AUTH_FILE", empty.toString()), PULL_TIMEOUT);
        assertEquals(2, anonymous.exitCode(), anonymous.toString());
        assertTrue(anonymous.stderr().contains("refused to let " + repository + " be pulled anonymously (401"),
                anonymous.toString());
        assertTrue(anonymous.stderr().contains("REGISTRY_AUTH_FILE"), anonymous.toString());

        // podman login's file: the token service gets the credentials, the pull works, nothing prints the password.
        Path authFile = work.resolve("auth.json");
        Files.writeString(authFile, "{\"auths\":{\"" + registry.hostPort() + "\":{\"auth\":\""
                + java.util.Base64.getEncoder().encodeToString((TestRegistry.PRIVATE_USER + ":" + TestRegistry.PRIVATE_PASSWORD)
                .getBytes(StandardCharsets.UTF_8)) + "\"}}}");
        int tokensBefore = registry.tokenRequests().size();
        CageHarness.Result pulled = CageHarness.launch(List.of("image", "pull", reference), "",
                Map.of("REGISTRY_AUTH_FILE", authFile.toString()), PULL_TIMEOUT);
        assertEquals(0, pulled.exitCode(), pulled.toString());
        assertEquals(List.of(new TestRegistry.TokenRequest("repository:" + repository + ":pull", "claude-cage-it-registry",
                true)), registry.tokenRequests().subList(tokensBefore, registry.tokenRequests().size()));
        assertFalse(pulled.stdout().contains(TestRegistry.PRIVATE_PASSWORD) || pulled.stderr().contains(TestRegistry.PRIVATE_PASSWORD));
        assertTrue(pulled.stdout().contains("pulled " + reference + " ("), pulled.toString());
        assertTrue(CageHarness.launch(List.of("images")).stdout().contains(reference.substring(0, reference.lastIndexOf(':'))),
                "the private image is in the store");
    }

    @Test
    void aBlobDamagedInTheRegistrysStorageIsRefusedAndNothingIsStored() throws Exception {
        String repository = "it/damaged";
        RegistryPush push = new RegistryPush(registry, repository);
        Path tree = Files.createDirectories(work.resolve("tree"));
        Files.writeString(tree.resolve("file.txt"), "content " + System.nanoTime() + "\n");
        Layer layer = layer(work, "damaged", tree, true);
        RegistryPush.Blob blob = push.blob(layer.archive());
        RegistryPush.Blob config = push.blob(config("amd64", List.of(layer)).getBytes(StandardCharsets.UTF_8));
        push.manifest("1", "application/vnd.oci.image.manifest.v1+json", manifest(true, config, List.of(blob), List.of(true)));
        // The filesystem driver keeps each blob at blobs/sha256/XX/HEX/data: same length, other bytes.
        String hex = blob.digest().substring(7);
        Path data = registry.storage().resolve("docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data");
        byte[] bytes = Files.readAllBytes(data);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(data, bytes);

        String reference = registry.hostPort() + "/" + repository + ":1";
        named(reference);
        CageHarness.Result pulled = pull(reference);
        assertEquals(1, pulled.exitCode(), pulled.toString());
        assertTrue(pulled.stderr().contains("the blob " + blob.digest() + " from " + registry.hostPort()
                + " does not match its digest: got " + blob.size() + " bytes with the digest sha256:"), pulled.toString());
        assertTrue(pulled.stderr().contains("it was refused and nothing was stored"), pulled.toString());
    }

    private static void exec(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
