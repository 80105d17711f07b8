package dev.claudecage.it;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the real launcher ({@code bin/claude-cage} with the jar Maven just built) as a separate
 * process, as a user would, and looks at the host for anything a cage left behind.
 */
public final class CageHarness {

    public static final Path ROOTFS = Path.of("/var/cache/claude-cage/rootfs/bookworm-minbase");
    private static final Path LAUNCHER = Path.of("bin/claude-cage").toAbsolutePath();

    private CageHarness() {
    }

    /** What the launcher printed and how it ended. */
    public record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    /**
     * The integration tests need root (runc, mounts, cgroups) and the minbase rootfs; where either
     * is missing the test is skipped, and the reason is printed so the skip is never silent.
     */
    public static void requireRootAndRootfs() {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!root) {
            System.out.println("SKIPPED: integration tests need root for runc, mounts and cgroups (run: sudo make test)");
        }
        Assumptions.assumeTrue(root, "integration tests need root for runc, mounts and cgroups (run: sudo make test)");
        boolean rootfs = Files.isRegularFile(ROOTFS.resolve(".claude-cage-rootfs"));
        if (!rootfs) {
            System.out.println("SKIPPED: no rootfs at " + ROOTFS + " (run: sudo make rootfs)");
        }
        Assumptions.assumeTrue(rootfs, "no rootfs at " + ROOTFS + " (run: sudo make rootfs)");
    }

    public static Result launch(List<String> args) {
        return launch(args, "", Map.of(), Duration.ofMinutes(2));
    }

    public static Result launch(List<String> args, String stdin, Map<String, String> env, Duration timeout) {
        try {
            return waitFor(start(args, env), stdin, timeout);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Process start(List<String> args, Map<String, String> env) {
        List<String> command = new ArrayList<>();
        command.add(LAUNCHER.toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("CLAUDE_CAGE_JAR", System.getProperty("claudecage.jar",
                Path.of("target/claude-cage.jar").toAbsolutePath().toString()));
        // The tests must not pick up the configuration of whoever runs them.
        builder.environment().put("XDG_CONFIG_HOME", "/nonexistent-claude-cage-test-config");
        builder.environment().keySet().removeIf(key -> key.startsWith("CLAUDE_CAGE_") && !key.equals("CLAUDE_CAGE_JAR"));
        builder.environment().putAll(env);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command, e);
        }
    }

    /** Everything on the host that names a claude-cage cage: must be empty between tests. */
    public static List<String> leftovers() throws IOException {
        TreeSet<String> found = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String mountPoint = line.split(" ")[4];
            if (mountPoint.startsWith("/run/claude-cage/")) {
                found.add("mount " + mountPoint);
            }
        }
        addChildren(found, "runtime state", Path.of("/run/claude-cage/runtime/runc"));
        addChildren(found, "run directory", Path.of("/run/claude-cage/runs"));
        try (Stream<Path> controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path controller : controllers.toList()) {
                addChildren(found, "cgroup", controller.resolve("claude-cage"));
            }
        }
        return new ArrayList<>(found);
    }

    private static void addChildren(TreeSet<String> found, String what, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> children = Files.list(dir)) {
            children.filter(Files::isDirectory).forEach(child -> found.add(what + " " + child));
        }
    }

    public static Result waitFor(Process process, String stdin, Duration timeout) throws IOException, InterruptedException {
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(process, true));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process, false));
        try (var input = process.getOutputStream()) {
            input.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException closedEarly) {
            // The command did not read its stdin; that is its business.
        }
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("launcher did not finish within " + timeout);
        }
        return new Result(process.exitValue(), new String(out.join(), StandardCharsets.UTF_8),
                new String(err.join(), StandardCharsets.UTF_8));
    }

    private static byte[] readAll(Process process, boolean stdout) {
        try {
            return (stdout ? process.getInputStream() : process.getErrorStream()).readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /**
     * The shipped CLI image, with the real Claude Code: built once per machine (the first build
     * downloads Debian packages and the npm package, a few minutes), then taken from the store.
     */
    public static void requireCliImage() {
        Result images = launch(List.of("images"));
        if (images.exitCode() == 0 && images.stdout().lines().anyMatch(line -> line.startsWith("cli:latest "))) {
            return;
        }
        System.out.println("building the cli image for the end-to-end tests (once per machine)");
        Result built = launch(List.of("build", "cli"), "", Map.of(), Duration.ofMinutes(30));
        if (built.exitCode() != 0) {
            throw new AssertionError("cannot build the cli image: " + built);
        }
    }
}
