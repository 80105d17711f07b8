package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped Dockerfiles are real Dockerfiles: Docker (Debian's docker.io engine, started here
 * on private directories and a private socket, with no iptables or bridge) builds them too, on
 * a {@code debian:bookworm} made by {@code docker import} of the store's debootstrap rootfs, and
 * the images agree with claude-cage's on what a container runs with. Skipped, with the reason
 * printed, where no Docker engine can start.
 */
class ImageDockerComparisonIT {

    private static final Path REPOSITORY = Path.of("").toAbsolutePath();
    private static final List<String> SETTINGS = List.of("User", "Env", "WorkingDir", "Entrypoint", "Cmd", "ExposedPorts");

    private static DockerEngine engine;

    @BeforeAll
    static void startDocker() throws Exception {
        CageHarness.requireRootAndRootfs();
        engine = DockerEngine.start(List.of());
    }

    @AfterAll
    static void stopDocker() throws Exception {
        if (engine != null) {
            engine.close();
            engine = null;
        }
    }

    private static CageHarness.Result docker(Duration timeout, String... args) throws IOException, InterruptedException {
        return engine.docker(timeout, args);
    }

    /** Ours and Docker's runtime settings of an image, as OCI config JSON objects. */
    private static void assertSameSettings(String image) throws Exception {
        CageHarness.Result ours = CageHarness.launch(List.of("image", "inspect", image));
        assertEquals(0, ours.exitCode(), ours.toString());
        JsonNode ourSettings = Json.mapper().readTree(ours.stdout()).path("config");
        CageHarness.Result theirs = docker(Duration.ofSeconds(30), "image", "inspect", "--format", "{{json .Config}}", image);
        assertEquals(0, theirs.exitCode(), theirs.toString());
        JsonNode dockerSettings = Json.mapper().readTree(theirs.stdout());
        for (String key : SETTINGS) {
            JsonNode expected = dockerSettings.path(key);
            JsonNode actual = ourSettings.path(key);
            boolean bothEmpty = (expected.isMissingNode() || expected.isNull() || expected.isEmpty())
                    && (actual.isMissingNode() || actual.isEmpty());
            assertTrue(bothEmpty || expected.equals(actual), image + " " + key + ": docker " + expected + ", ours " + actual);
        }
    }

    @Test
    void dockerBuildsTheShippedDockerfilesIntoTheSameImages() throws Exception {
        CageHarness.Result ours = CageHarness.launch(List.of("build", "all"), "", Map.of(), Duration.ofMinutes(30));
        assertEquals(0, ours.exitCode(), ours.toString());

        Path base = baseLayer();
        Process importing = new ProcessBuilder("sh", "-c", "tar -C \"$0\" -c . | \"$1\" -H \"$2\" import - debian:bookworm",
                base.toString(), engine.client().get(0), engine.socket()).redirectErrorStream(true).start();
        CageHarness.Result imported = CageHarness.waitFor(importing, "", Duration.ofMinutes(5));
        assertEquals(0, imported.exitCode(), imported.toString());

        String caCertificates = localCaCertificates();
        long started = System.nanoTime();
        CageHarness.Result cli = docker(Duration.ofMinutes(30), "build", "--network", "host", "-t", "cli",
                "--build-arg", "EXTRA_CA_CERTS=" + caCertificates, REPOSITORY.resolve("docker/cli").toString());
        assertEquals(0, cli.exitCode(), cli.toString());
        System.out.println("docker build of cli: " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s");
        CageHarness.Result desktop = docker(Duration.ofMinutes(30), "build", "--network", "host", "-t", "desktop",
                REPOSITORY.resolve("docker/desktop").toString());
        assertEquals(0, desktop.exitCode(), desktop.toString());

        assertSameSettings("cli");
        assertSameSettings("desktop");

        CageHarness.Result dockerVersion = docker(Duration.ofMinutes(2), "run", "--rm", "--network", "none", "cli",
                "claude", "--version");
        CageHarness.Result cageVersion = CageHarness.launch(List.of("run", "--network", "none", "--", "claude", "--version"));
        assertEquals(0, dockerVersion.exitCode(), dockerVersion.toString());
        assertEquals(cageVersion.stdout(), dockerVersion.stdout());

        // find meets unreadable directories as uid 1000; what it can see must hold no setuid file.
        String inventory = "id; for tool in Xvfb openbox x11vnc xterm claude; do command -v $tool; done; "
                + "find / -xdev -type f -perm /6000 2>/dev/null; true";
        CageHarness.Result dockerDesktop = docker(Duration.ofMinutes(2), "run", "--rm", "--network", "none",
                "--entrypoint", "sh", "desktop", "-c", inventory);
        CageHarness.Result cageDesktop = CageHarness.launch(List.of("run", "--image", "desktop", "--network", "none", "--",
                "sh", "-c", inventory));
        assertEquals(0, cageDesktop.exitCode(), cageDesktop.toString());
        assertEquals(cageDesktop.stdout(), dockerDesktop.stdout());
    }

    /** The store's debian:bookworm, as debootstrap made it: the directory of its one layer. */
    private static Path baseLayer() throws Exception {
        CageHarness.Result inspected = CageHarness.launch(List.of("image", "inspect", "debian:bookworm"));
        assertEquals(0, inspected.exitCode(), inspected.toString());
        JsonNode layers = Json.mapper().readTree(inspected.stdout()).path("rootfs").path("diff_ids");
        assertEquals(1, layers.size(), "debian:bookworm is one debootstrap layer");
        return ImageBuildIT.STORE.resolve("layers").resolve(layers.get(0).asText().substring("sha256:".length()))
                .resolve("diff");
    }

    /** What claude-cage passes itself: the host's own CA certificates, for a TLS-inspecting proxy. */
    private static String localCaCertificates() throws IOException {
        Path directory = Path.of("/usr/local/share/ca-certificates");
        if (!Files.isDirectory(directory)) {
            return "";
        }
        StringBuilder pem = new StringBuilder();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(path -> path.toString().endsWith(".crt")).sorted().toList()) {
                pem.append(Files.readString(file, StandardCharsets.UTF_8).strip()).append('\n');
            }
        }
        return pem.toString();
    }
}
