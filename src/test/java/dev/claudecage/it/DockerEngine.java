package dev.claudecage.it;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's Docker engine (docker.io), started by a test on private directories and a private
 * socket, with no iptables, no bridge and no network of its own, and stopped by its pid. Where no
 * engine can start, the test is skipped with the reason printed. The client is Debian's
 * ({@code /usr/bin/docker}, which speaks to the engine's BuildKit itself), not whatever other
 * {@code docker} the PATH finds first.
 */
final class DockerEngine implements AutoCloseable {

    private static final Path DEBIAN_CLIENT = Path.of("/usr/bin/docker");

    private final Path directory;
    private final Process dockerd;
    private final String socket;
    private final String client;

    private DockerEngine(Path directory, Process dockerd, String socket, String client) {
        this.directory = directory;
        this.dockerd = dockerd;
        this.socket = socket;
        this.client = client;
    }

    /** Starts an engine with {@code extraArgs} (e.g. --registry-mirror), or skips the test. */
    static DockerEngine start(List<String> extraArgs) throws Exception {
        skipUnless(onPath("dockerd") && (Files.isExecutable(DEBIAN_CLIENT) || onPath("docker")),
                "no Docker engine here (apt-get install docker.io)");
        Path directory = Files.createTempDirectory("claude-cage-docker-it");
        String socket = "unix://" + directory.resolve("docker.sock");
        List<String> command = new ArrayList<>(List.of("dockerd", "--iptables=false", "--ip6tables=false",
                "--ip-forward=false", "--bridge=none", "--data-root", directory.resolve("data").toString(),
                "--exec-root", directory.resolve("exec").toString(), "--pidfile", directory.resolve("docker.pid").toString(),
                "-H", socket));
        command.addAll(extraArgs);
        Process dockerd = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(directory.resolve("dockerd.log").toFile()).start();
        DockerEngine engine = new DockerEngine(directory, dockerd, socket,
                Files.isExecutable(DEBIAN_CLIENT) ? DEBIAN_CLIENT.toString() : "docker");
        boolean up = false;
        for (int i = 0; i < 60 && !up && dockerd.isAlive(); i++) {
            up = engine.docker(Duration.ofSeconds(10), "version").exitCode() == 0;
            if (!up) {
                Thread.sleep(500);
            }
        }
        if (!up) {
            String log = engine.log();
            engine.close();
            skipUnless(false, "the Docker engine did not start: " + log.strip().lines().reduce((a, b) -> b).orElse(""));
        }
        return engine;
    }

    private static void skipUnless(boolean condition, String reason) {
        if (!condition) {
            System.out.println("SKIPPED: docker comparison: " + reason);
        }
        Assumptions.assumeTrue(condition, reason);
    }

    private static boolean onPath(String program) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, program)));
    }

    String socket() {
        return socket;
    }

    /** The client command line up to the subcommand: the Debian client and this engine's socket. */
    List<String> client() {
        return List.of(client, "-H", socket);
    }

    CageHarness.Result docker(Duration timeout, String... args) throws IOException, InterruptedException {
        return docker(timeout, Map.of(), args);
    }

    CageHarness.Result docker(Duration timeout, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(client());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(env);
        return CageHarness.waitFor(builder.start(), "", timeout);
    }

    String log() {
        try {
            return Files.readString(directory.resolve("dockerd.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops the engine (SIGTERM to its pid, then SIGKILL), unmounts what it left, removes its directories. */
    @Override
    public void close() throws IOException {
        dockerd.destroy();
        try {
            if (!dockerd.waitFor(60, TimeUnit.SECONDS)) {
                dockerd.destroyForcibly();
                dockerd.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            dockerd.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        // dockerd leaves its network namespace handle mounted in its exec root.
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String mountPoint = line.split(" ")[4];
            if (mountPoint.startsWith(directory.toString())) {
                mounts.add(mountPoint);
            }
        }
        mounts.sort(Comparator.reverseOrder());
        for (String mountPoint : mounts) {
            Process umount = new ProcessBuilder("umount", mountPoint).inheritIO().start();
            try {
                umount.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        assertTrue(Files.notExists(directory), "the Docker engine's directories could not be removed");
    }
}
