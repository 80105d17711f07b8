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
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's Docker engine (docker.io) for tests that compare with Docker: started on private
 * directories and a private socket, with no iptables, bridge or forwarding, and stopped by its own
 * process, its leftover mounts and directories removed. Where no engine can start, the test is
 * skipped with the reason printed.
 */
final class DockerEngine implements AutoCloseable {

    private final Path directory;
    private final Process dockerd;
    private final String socket;

    private DockerEngine(Path directory, Process dockerd, String socket) {
        this.directory = directory;
        this.dockerd = dockerd;
        this.socket = socket;
    }

    /** A running engine, or a skipped test (named {@code what} in the printed reason). */
    static DockerEngine start(String what) throws IOException, InterruptedException {
        skipUnless(onPath("dockerd") && onPath("docker"), what, "no Docker engine here (apt-get install docker.io)");
        Path directory = Files.createTempDirectory("claude-cage-docker-it");
        String socket = "unix://" + directory.resolve("docker.sock");
        Process dockerd = new ProcessBuilder("dockerd", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
                "--bridge=none", "--data-root", directory.resolve("data").toString(),
                "--exec-root", directory.resolve("exec").toString(), "--pidfile", directory.resolve("docker.pid").toString(),
                "-H", socket)
                .redirectErrorStream(true).redirectOutput(directory.resolve("dockerd.log").toFile()).start();
        DockerEngine engine = new DockerEngine(directory, dockerd, socket);
        boolean up = false;
        for (int i = 0; i < 60 && !up && dockerd.isAlive(); i++) {
            up = engine.docker(Duration.ofSeconds(10), "version").exitCode() == 0;
            if (!up) {
                Thread.sleep(500);
            }
        }
        if (!up) {
            String log = Files.readString(directory.resolve("dockerd.log"));
            engine.close();
            skipUnless(false, what, "the Docker engine did not start: "
                    + log.strip().lines().reduce((a, b) -> b).orElse(""));
        }
        return engine;
    }

    /** The engine's socket, for a docker client started another way. */
    String socket() {
        return socket;
    }

    CageHarness.Result docker(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("docker", "-H", socket));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        return CageHarness.waitFor(process, "", timeout);
    }

    @Override
    public void close() throws IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the Docker engine", e);
        }
    }

    private void stop() throws IOException, InterruptedException {
        dockerd.destroy();
        if (!dockerd.waitFor(60, TimeUnit.SECONDS)) {
            dockerd.destroyForcibly();
            dockerd.waitFor(10, TimeUnit.SECONDS);
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
            new ProcessBuilder("umount", mountPoint).inheritIO().start().waitFor();
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        assertTrue(Files.notExists(directory), "the Docker engine's directories could not be removed");
    }

    private static void skipUnless(boolean condition, String what, String reason) {
        if (!condition) {
            System.out.println("SKIPPED: " + what + ": " + reason);
        }
        Assumptions.assumeTrue(condition, reason);
    }

    private static boolean onPath(String program) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, program)));
    }
}
