package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A compatibility corpus: Dockerfiles this project did not write, each built twice, by
 * {@code claude-cage build} and by {@code docker build} (Debian's docker.io engine with its
 * BuildKit), from the same base images, and the results compared: every file (path, type,
 * permission bits, owner, content digest or link target) and the image config (env, user,
 * workdir, entrypoint, cmd, labels, ports, volumes, health check, stop signal, ONBUILD, shell).
 * <p>
 * <b>The corpus</b> is the compatibility test data of openshift/imagebuilder (Apache-2.0; a
 * Dockerfile builder whose own tests compare it with {@code docker build}), as Debian ships it in
 * the package {@value #CORPUS_PACKAGE} {@value #CORPUS_VERSION}: the test downloads that package with
 * {@code apt-get download}, checks the sha256 pinned here, and unpacks it with dpkg-deb into a
 * directory of its own. Nothing of it is kept in this repository.
 * <p>
 * <b>The base images</b> the corpus names (busybox, alpine, debian, centos, ubuntu, golang) cannot
 * be pulled here, so the test makes stand-ins and serves them from a registry on loopback
 * (Debian's docker-registry, {@link TestRegistry}): {@code busybox} and {@code alpine} are
 * Debian's busybox-static with its applets linked; the others are the store's debootstrap
 * {@code debian:bookworm} ({@code golang:1.9} with an empty /go/src and WORKDIR /go). Both builders
 * reach that registry as a mirror of docker.io: the engine with {@code --registry-mirror}, claude-cage
 * with {@code registry_mirrors}.
 * <p>
 * A Dockerfile that both refuse is a match (the corpus has some that must fail). Every other
 * difference must be listed in {@link #KNOWN_DIFFERENCES} with its reason, as in docs/images.md.
 */
class DockerfileCorpusIT {

    static final String CORPUS_PACKAGE = "golang-github-openshift-imagebuilder-dev";
    static final String CORPUS_VERSION = "1.2.3+ds1-2";
    private static final String CORPUS_SHA256 = "9db20638d053fd90599fed6e96eecca9038816f1517b3ea1e28a859256091524";
    private static final String TESTDATA = "usr/share/gocode/src/github.com/openshift/imagebuilder/dockerclient/testdata";
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);
    private static final String PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Dockerfiles of the corpus that are not built, and why. */
    private static final Map<String, String> NOT_BUILT = Map.of(
            "Dockerfile.add", "its ADDs download from github.com, which no test may reach");

    private static final String CACHE_MOUNT_ID = "it-corpus-demo";
    private static final String MOUNT_POINTS = "Debian's engine (BuildKit 0.8) leaves in the image the empty mount "
            + "points a RUN --mount made; BuildKit removes them since 0.11 (moby/buildkit#3307), and so does claude-cage";

    /** Dockerfiles whose results differ, and why; docs/images.md lists the same. */
    private static final Map<String, String> KNOWN_DIFFERENCES = Map.of(
            "ours/run-mount-bind", MOUNT_POINTS,
            "ours/run-mount-cache", MOUNT_POINTS,
            "ours/run-mount-tmpfs-and-secret", MOUNT_POINTS);

    /** The settings compared, by their names in Docker's config. */
    private static final List<String> SETTINGS = List.of("User", "Env", "WorkingDir", "Entrypoint", "Cmd", "Labels",
            "ExposedPorts", "Volumes", "Healthcheck", "StopSignal", "OnBuild", "Shell");
    /** Paths a container, not the image, puts into Docker's export. */
    private static final Set<String> CONTAINER_FILES = Set.of(".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf",
            "etc/mtab");
    private static final Set<String> KERNEL_FILE_SYSTEMS = Set.of("dev", "proc", "sys");

    /** The stand-in base images, by the name the corpus uses. */
    private static final List<String> BUSYBOX_NAMES = List.of("busybox:latest", "alpine:latest");
    private static final List<String> DEBIAN_NAMES = List.of("debian:latest", "centos:7", "centos:latest", "ubuntu:18.04",
            "ubuntu:latest");
    private static final String GOLANG = "golang:1.9";

    private static Path work;
    private static Path testdata;
    private static TestRegistry registry;
    private static DockerEngine engine;
    private static final List<String> OUR_IMAGES = new ArrayList<>();
    private static final List<String> REPORT = new ArrayList<>();
    /** The stand-ins' names that the store did not have before: the builds pull them, and they go afterwards. */
    private static final List<String> PULLED_HERE = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        CageHarness.requireRootAndRootfs();
        for (String name : Stream.of(BUSYBOX_NAMES, DEBIAN_NAMES, List.of(GOLANG)).flatMap(List::stream).toList()) {
            if (CageHarness.launch(List.of("image", "inspect", name)).exitCode() != 0) {
                PULLED_HERE.add(name);
            }
        }
        work = Files.createTempDirectory("claude-cage-corpus");
        testdata = unpackPackage(CORPUS_PACKAGE + "=" + CORPUS_VERSION, CORPUS_SHA256).resolve(TESTDATA);
        Path busybox = busyboxRoot(unpackPackage("busybox-static", null));
        Path debian = debianLayer();
        registry = TestRegistry.start(Files.createDirectories(work.resolve("registry")));
        engine = DockerEngine.start(List.of("--registry-mirror", "http://" + registry.hostPort()));
        for (String name : BUSYBOX_NAMES) {
            pushBase(busybox, null, name, "[\"sh\"]", null);
        }
        for (String name : DEBIAN_NAMES) {
            pushBase(debian, null, name, "[\"bash\"]", null);
        }
        Path go = Files.createDirectories(work.resolve("golang/go/src"));
        pushBase(debian, go.getParent(), GOLANG, "[\"bash\"]", "/go");
    }

    @AfterAll
    static void tearDown() throws Exception {
        List<String> names = new ArrayList<>(OUR_IMAGES);
        names.addAll(PULLED_HERE);
        ImageBuildIT.removeImages(names);
        ImageBuildIT.removeCacheMount(CACHE_MOUNT_ID);
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            if (registry != null) {
                registry.close();
            }
            if (work != null) {
                try (Stream<Path> walk = Files.walk(work)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
                }
            }
        }
        if (!REPORT.isEmpty()) {
            System.out.println("Dockerfile corpus (" + CORPUS_PACKAGE + " " + CORPUS_VERSION + "):\n  "
                    + String.join("\n  ", REPORT));
        }
    }

    /** Downloads a Debian package (NAME or NAME=VERSION), checks its sha256 when given, and unpacks it. */
    private static Path unpackPackage(String spec, String sha256) throws Exception {
        String name = spec.split("=")[0];
        Path downloads = Files.createDirectories(work.resolve("downloads-" + name));
        // apt's download user must be able to write here.
        Files.setPosixFilePermissions(downloads, PosixFilePermissions.fromString("rwxrwxrwx"));
        CageHarness.Result download = run(downloads, Duration.ofMinutes(5), "apt-get", "download", spec);
        assertEquals(0, download.exitCode(), "apt-get download " + spec + " failed (is the Debian mirror reachable, "
                + "and has apt-get update run?): " + download);
        Path deb;
        try (Stream<Path> files = Files.list(downloads)) {
            deb = files.filter(path -> path.toString().endsWith(".deb")).findFirst().orElseThrow();
        }
        if (sha256 != null) {
            assertEquals(sha256, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(deb))),
                    deb + " is not the package this corpus was checked against");
        }
        Path unpacked = work.resolve("package-" + name);
        CageHarness.Result extracted = run(work, Duration.ofMinutes(2), "dpkg-deb", "-x", deb.toString(), unpacked.toString());
        assertEquals(0, extracted.exitCode(), extracted.toString());
        return unpacked;
    }

    /** A busybox image's root: the static busybox, a link per applet, and the directories such images have. */
    private static Path busyboxRoot(Path unpacked) throws Exception {
        Path root = Files.createDirectories(work.resolve("busybox-root"));
        for (String dir : List.of("bin", "etc", "home", "root", "tmp", "usr/bin", "var/www")) {
            Files.createDirectories(root.resolve(dir));
        }
        Files.setAttribute(root.resolve("tmp"), "unix:mode", 01777);
        Files.setPosixFilePermissions(root.resolve("root"), PosixFilePermissions.fromString("rwx------"));
        Path busybox = Files.copy(unpacked.resolve("bin/busybox"), root.resolve("bin/busybox"));
        CageHarness.Result applets = run(work, Duration.ofSeconds(30), busybox.toString(), "--list");
        assertEquals(0, applets.exitCode(), applets.toString());
        for (String applet : applets.stdout().split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                Files.createSymbolicLink(root.resolve("bin").resolve(applet.strip()), Path.of("busybox"));
            }
        }
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                + "bin:x:2:2:bin:/bin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n");
        Files.writeString(root.resolve("etc/group"), "root:x:0:\ndaemon:x:1:\nbin:x:2:\nnogroup:x:65534:\n");
        return root;
    }

    /** The store's debootstrap debian:bookworm (made by a first build when the store lacks it): its one layer. */
    private static Path debianLayer() throws Exception {
        Path context = Files.createDirectories(work.resolve("warm-up"));
        Files.writeString(context.resolve("Dockerfile"), "FROM debian:bookworm\n");
        String name = "it-corpus-warm-up";
        OUR_IMAGES.add(name);
        CageHarness.Result warmUp = ImageBuildIT.build(name, context);
        assertEquals(0, warmUp.exitCode(), warmUp.toString());
        JsonNode layers = inspectOurs("debian:bookworm").path("rootfs").path("diff_ids");
        assertEquals(1, layers.size(), "debian:bookworm is one debootstrap layer");
        return ImageBuildIT.STORE.resolve("layers").resolve(layers.get(0).asText().substring("sha256:".length()))
                .resolve("diff");
    }

    /** Imports {@code root} (plus what {@code extra} holds) into the engine and pushes it to the registry as docker.io's NAME. */
    private static void pushBase(Path root, Path extra, String name, String cmd, String workdir) throws Exception {
        String target = registry.hostPort() + "/library/" + name;
        List<String> importing = new ArrayList<>(List.of("tar", "-C", root.toString(), "-c", "."));
        if (extra != null) {
            try (Stream<Path> children = Files.list(extra)) {
                importing.addAll(List.of("-C", extra.toString()));
                children.map(child -> child.getFileName().toString()).sorted().forEach(importing::add);
            }
        }
        String changes = "--change 'ENV " + PATH + "' --change 'CMD " + cmd + "'"
                + (workdir == null ? "" : " --change 'WORKDIR " + workdir + "'");
        CageHarness.Result imported = run(work, Duration.ofMinutes(5), "sh", "-c", String.join(" ", importing)
                + " | \"$0\" -H \"$1\" import " + changes + " - \"$2\"", engine.client().get(0), engine.socket(), target);
        assertEquals(0, imported.exitCode(), imported.toString());
        CageHarness.Result pushed = engine.docker(Duration.ofMinutes(5), "push", target);
        assertEquals(0, pushed.exitCode(), pushed + "\nregistry log: " + registry.log());
    }

    private static CageHarness.Result run(Path directory, Duration timeout, String... command)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).start();
        return CageHarness.waitFor(process, "", timeout);
    }

    /** One Dockerfile of the corpus and the context it is built in. */
    private record Case(String name, Path dockerfile, Path context) {
    }

    /** Every Dockerfile of the test data: those at the top with the test data as context, the others in their directory. */
    private static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        try (Stream<Path> files = Files.walk(testdata)) {
            for (Path file : files.filter(path -> path.getFileName().toString().startsWith("Dockerfile")).sorted().toList()) {
                String name = testdata.relativize(file).toString();
                cases.add(new Case(name, file, file.getParent()));
            }
        }
        return cases;
    }

    @TestFactory
    Stream<DynamicTest> claudeCageAndDockerBuildTheCorpusAlike() throws IOException {
        List<Case> cases = cases();
        assertTrue(cases.size() >= 12, "the corpus holds " + cases.size() + " Dockerfiles");
        return cases.stream().map(dockerfileCase -> DynamicTest.dynamicTest(dockerfileCase.name(), () -> compare(dockerfileCase)));
    }

    /**
     * Dockerfiles of ours (a value without FROM gets FROM busybox), for the instructions and flags
     * Debian's engine has beyond what the corpus uses (its BuildKit frontend is dockerfile 1.2: no here-documents, COPY --link/--parents/--exclude,
     * RUN --network or ADD --checksum, which DockerfileFeaturesIT covers alone).
     */
    private static final Map<String, String> FEATURES = Map.of(
            "ours/run-mount-cache", "RUN --mount=type=cache,target=/var/cache/demo,id=" + CACHE_MOUNT_ID + " "
                    + "echo cached > /var/cache/demo/f && touch /made\n",
            "ours/run-mount-bind", "RUN --mount=type=bind,source=ctx.txt,target=/mnt/ctx.txt cp /mnt/ctx.txt /copied\n"
                    + "RUN --mount=type=bind,target=/ctx,rw touch /ctx/written && cat /ctx/ctx.txt > /whole\n",
            "ours/run-mount-tmpfs-and-secret", "RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && echo ok > /ok\n"
                    + "RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo none > /none\n",
            "ours/copy-chown-chmod", "COPY --chown=1:2 --chmod=600 ctx.txt /a/b/c/\nCOPY --chmod=755 ctx.txt /x/run.sh\n",
            "ours/recorded-settings", "HEALTHCHECK --interval=5s --timeout=2s --start-period=1s --retries=2 CMD true\n"
                    + "STOPSIGNAL SIGQUIT\nVOLUME /data [\"/x\"]\nVOLUME [\"/cache\", \"/logs\"]\nONBUILD RUN true\n"
                    + "ONBUILD COPY . /app\nEXPOSE 80/udp 8080\nLABEL a=b\n",
            "ours/platform-args", "ARG TARGETARCH\nARG TARGETPLATFORM\nRUN echo $TARGETARCH $TARGETPLATFORM > /arch\n"
                    + "ENV ARCH=$TARGETARCH\n",
            "ours/onbuild-parent", "ONBUILD COPY ctx.txt /from-trigger.txt\nONBUILD RUN echo from-trigger > /triggered\n",
            // After the parent (the order is by name): its triggers run here.
            "ours/onbuild-trigger-child", "FROM it-corpus-ours-onbuild-parent\nRUN cat /from-trigger.txt /triggered\n");

    @TestFactory
    Stream<DynamicTest> claudeCageAndDockerBuildTheFeaturesDebiansEngineHasAlike() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (var feature : new TreeMap<>(FEATURES).entrySet()) {
            Path context = Files.createDirectories(work.resolve(feature.getKey()));
            Files.writeString(context.resolve("ctx.txt"), "from the context\n");
            Files.writeString(context.resolve("Dockerfile"), feature.getValue().startsWith("FROM ") ? feature.getValue()
                    : "FROM busybox\n" + feature.getValue());
            tests.add(DynamicTest.dynamicTest(feature.getKey(), () -> compare(new Case(feature.getKey(),
                    context.resolve("Dockerfile"), context))));
        }
        return tests.stream();
    }

    private void compare(Case dockerfileCase) throws Exception {
        String notBuilt = NOT_BUILT.get(dockerfileCase.name());
        if (notBuilt != null) {
            REPORT.add(dockerfileCase.name() + ": not built: " + notBuilt);
            return;
        }
        String tag = "it-corpus-" + dockerfileCase.name().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
        OUR_IMAGES.add(tag);
        CageHarness.Result docker = engine.docker(BUILD_TIMEOUT, Map.of("DOCKER_BUILDKIT", "1"), "build", "--network", "host",
                "-f", dockerfileCase.dockerfile().toString(), "-t", tag, dockerfileCase.context().toString());
        List<String> args = List.of("build", "-f", dockerfileCase.dockerfile().toString(), "-t", tag,
                dockerfileCase.context().toString());
        CageHarness.Result ours = CageHarness.launch(args, "", Map.of("CLAUDE_CAGE_REGISTRY_MIRRORS",
                "docker.io=http://" + registry.hostPort()), BUILD_TIMEOUT);
        List<String> differences = new ArrayList<>();
        if (docker.exitCode() != 0 || ours.exitCode() != 0) {
            if (docker.exitCode() != 0 && ours.exitCode() != 0) {
                REPORT.add(dockerfileCase.name() + ": both refuse: docker: " + lastLine(docker.stdout() + docker.stderr())
                        + " | claude-cage: " + lastLine(ours.stderr()));
                return;
            }
            differences.add(docker.exitCode() != 0 ? "docker fails (" + lastLine(docker.stdout() + docker.stderr())
                    + "), claude-cage builds it" : "claude-cage fails (" + ours.stderr().strip() + "), docker builds it");
        } else {
            differences.addAll(settingsDifferences(tag));
            differences.addAll(fileDifferences(tag));
        }
        String known = KNOWN_DIFFERENCES.get(dockerfileCase.name());
        if (differences.isEmpty()) {
            REPORT.add(dockerfileCase.name() + ": same" + (known != null ? " (listed as a known difference: remove it)" : ""));
            assertTrue(known == null, dockerfileCase.name() + " builds alike now; remove it from KNOWN_DIFFERENCES");
            return;
        }
        REPORT.add(dockerfileCase.name() + ": differs" + (known != null ? " (known: " + known + ")" : "") + ": "
                + String.join("; ", differences));
        if (known == null) {
            fail(dockerfileCase.name() + " builds differently:\n  " + String.join("\n  ", differences));
        }
    }

    private static String lastLine(String output) {
        return output.strip().lines().reduce((first, second) -> second).orElse("");
    }

    private static JsonNode inspectOurs(String image) throws IOException {
        CageHarness.Result inspected = CageHarness.launch(List.of("image", "inspect", image));
        assertEquals(0, inspected.exitCode(), inspected.toString());
        return Json.mapper().readTree(inspected.stdout());
    }

    private static List<String> settingsDifferences(String tag) throws Exception {
        JsonNode ours = inspectOurs(tag).path("config");
        CageHarness.Result inspected = engine.docker(Duration.ofSeconds(30), "image", "inspect", "--format", "{{json .Config}}",
                tag);
        assertEquals(0, inspected.exitCode(), inspected.toString());
        JsonNode docker = Json.mapper().readTree(inspected.stdout());
        List<String> differences = new ArrayList<>();
        for (String key : SETTINGS) {
            JsonNode expected = docker.path(key);
            JsonNode actual = ours.path(key);
            boolean bothEmpty = isEmpty(expected) && isEmpty(actual);
            if (!bothEmpty && !expected.equals(actual)) {
                differences.add(key + ": docker " + expected + ", claude-cage " + actual);
            }
        }
        return differences;
    }

    private static boolean isEmpty(JsonNode node) {
        return node.isMissingNode() || node.isNull() || (node.isContainerNode() && node.isEmpty())
                || (node.isTextual() && node.asText().isEmpty());
    }

    /** The two images' files, compared entry by entry. */
    private static List<String> fileDifferences(String tag) throws Exception {
        Map<String, String> docker = dockerFiles(tag);
        Map<String, String> ours = ourFiles(tag);
        List<String> differences = new ArrayList<>();
        Set<String> paths = new TreeSet<>(docker.keySet());
        paths.addAll(ours.keySet());
        for (String path : paths) {
            String expected = docker.get(path);
            String actual = ours.get(path);
            if (expected == null || !expected.equals(actual)) {
                differences.add("/" + path + ": docker " + (expected == null ? "has none" : expected) + ", claude-cage "
                        + (actual == null ? "has none" : actual));
            }
        }
        return differences.size() > 20 ? List.of(differences.size() + " paths differ, the first: "
                + String.join("; ", differences.subList(0, 20))) : differences;
    }

    /** Docker's image as a container's export (the container is created, never started, then removed). */
    private static Map<String, String> dockerFiles(String tag) throws Exception {
        Path root = Files.createDirectories(work.resolve("docker-" + tag));
        CageHarness.Result created = engine.docker(Duration.ofMinutes(1), "create", "--name", tag, tag);
        assertEquals(0, created.exitCode(), created.toString());
        try {
            CageHarness.Result exported = run(work, Duration.ofMinutes(5), "sh", "-c",
                    "\"$0\" -H \"$1\" export \"$2\" | tar -x --numeric-owner -p -C \"$3\"", engine.client().get(0),
                    engine.socket(), tag, root.toString());
            assertEquals(0, exported.exitCode(), exported.toString());
            return inventory(root);
        } finally {
            engine.docker(Duration.ofMinutes(1), "rm", tag);
            deleteTree(root);
        }
    }

    /** claude-cage's image as the cage sees it: its layers in a read-only overlay. */
    private static Map<String, String> ourFiles(String tag) throws Exception {
        List<String> layers = new ArrayList<>();
        for (JsonNode layer : inspectOurs(tag).path("rootfs").path("diff_ids")) {
            layers.add(0, ImageBuildIT.STORE.resolve("layers").resolve(layer.asText().substring("sha256:".length()))
                    .resolve("diff").toString());
        }
        Path root = Files.createDirectories(work.resolve("ours-" + tag));
        List<String> mount = layers.size() == 1
                ? List.of("mount", "--bind", "-o", "ro", layers.get(0), root.toString())
                : List.of("mount", "-t", "overlay", "overlay", "-o", "ro,lowerdir=" + String.join(":", layers), root.toString());
        CageHarness.Result mounted = run(work, Duration.ofSeconds(30), mount.toArray(String[]::new));
        assertEquals(0, mounted.exitCode(), mounted.toString());
        try {
            return inventory(root);
        } finally {
            CageHarness.Result unmounted = run(work, Duration.ofSeconds(30), "umount", root.toString());
            assertEquals(0, unmounted.exitCode(), unmounted.toString());
            Files.delete(root);
        }
    }

    /** Path to "type mode uid:gid content", for every entry but the kernel file systems' and the container's own. */
    private static Map<String, String> inventory(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.toList()) {
                String relative = root.relativize(path).toString();
                String top = relative.split("/")[0];
                if (relative.isEmpty() || KERNEL_FILE_SYSTEMS.contains(top) || CONTAINER_FILES.contains(relative)) {
                    continue;
                }
                Map<String, Object> attributes = Files.readAttributes(path, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) attributes.get("mode");
                String owner = attributes.get("uid") + ":" + attributes.get("gid");
                String permissions = Integer.toOctalString(mode & 07777);
                if (Files.isSymbolicLink(path)) {
                    entries.put(relative, "link " + owner + " -> " + Files.readSymbolicLink(path));
                } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    entries.put(relative, "dir " + permissions + " " + owner);
                } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                    entries.put(relative, "file " + permissions + " " + owner + " " + sha256(path));
                } else {
                    entries.put(relative, "special " + Integer.toOctalString(mode) + " " + owner);
                }
            }
        }
        return entries;
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, read);
            }
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    }

    private static void deleteTree(Path root) throws IOException, InterruptedException {
        // As root, through rm: the export holds directories without write permission.
        Process rm = new ProcessBuilder("rm", "-rf", "--one-file-system", root.toString()).inheritIO().start();
        assertTrue(rm.waitFor(2, TimeUnit.MINUTES) && rm.exitValue() == 0, "cannot remove " + root);
        assertTrue(Files.notExists(root), root + " is still there");
    }
}
