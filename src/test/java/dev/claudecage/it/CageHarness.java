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
import java.util.Set;
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

    /** As {@link #launch(List, String, Map, Duration)}, run in {@code workingDir} as a user's shell in that folder would. */
    public static Result launchIn(Path workingDir, List<String> args, String stdin, Map<String, String> env,
            Duration timeout) {
        try {
            return waitFor(start(args, env, workingDir), stdin, timeout);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Process start(List<String> args, Map<String, String> env) {
        return start(args, env, Path.of("").toAbsolutePath());
    }

    private static Process start(List<String> args, Map<String, String> env, Path workingDir) {
        // As a user's shell starts it: a test run started in the background (where the shell ignores
        // SIGINT for its jobs) must not hand the launcher an ignored SIGINT, which the JVM keeps.
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT,TERM,HUP"));
        command.add(LAUNCHER.toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDir.toFile());
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
        addChildren(found, "runtime state", Path.of("/run/claude-cage/runtime/runsc"));
        addChildren(found, "run directory", Path.of("/run/claude-cage/runs"));
        // A block of host ids a cage held and nobody freed.
        Path idBlocks = Path.of("/run/claude-cage/userns");
        if (Files.isDirectory(idBlocks)) {
            try (Stream<Path> records = Files.list(idBlocks)) {
                records.forEach(record -> found.add("id block " + record));
            }
        }
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
     * The shipped CLI image, with the real Claude Code (the first build on a machine downloads
     * Debian packages and the npm package, a few minutes; later ones come from the build cache).
     */
    public static void requireCliImage() {
        requireImage("cli");
    }

    /** The shipped images this test run has built; a later call in the same run takes them from the store. */
    private static final Set<String> BUILT_IMAGES = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A shipped image (cli or desktop, which builds on cli), built from the Dockerfiles as they are
     * now, once per test run: with nothing changed every step comes from the build cache (a few
     * seconds), so a changed Dockerfile or entrypoint is what the tests run, never an older image
     * left in this machine's store.
     */
    public static synchronized void requireImage(String name) {
        if (BUILT_IMAGES.contains(name)) {
            return;
        }
        System.out.println("building the " + name + " image for the tests (from the build cache where nothing changed)");
        Result built = launch(List.of("build", name), "", Map.of(), Duration.ofMinutes(30));
        if (built.exitCode() != 0) {
            throw new AssertionError("cannot build the " + name + " image: " + built);
        }
        BUILT_IMAGES.add(name);
    }

    // ---- sessions

    /** Where session records and homes live; tests name their sessions "it-..." to stay apart from a user's. */
    public static final Path SESSION_DATA = Path.of("/var/lib/claude-cage/sessions");
    public static final Path SESSION_RUN = Path.of("/run/claude-cage/sessions");
    /** Where --clone sessions keep their copies. */
    public static final Path SESSION_CLONES = Path.of("/var/lib/claude-cage-clones");

    /**
     * What sessions and cages leave on the host, beyond {@link #leftovers()}: network namespaces,
     * veth links, nft tables, per-cage network folders, supervisors and runtime processes under
     * our state root, drop loggers left without their launcher, and the folders of test sessions ("it-..."). One-shot runs of other tests
     * ("run-..." and "verify-..." cages) are left out, so that a concurrent RunIT is not counted.
     */
    public static List<String> sessionLeftovers() throws IOException, InterruptedException {
        TreeSet<String> found = new TreeSet<>();
        for (String item : leftovers()) {
            if (!item.contains("/run-") && !item.contains("/verify-")) {
                found.add(item);
            }
        }
        found.addAll(NetworkLeftovers.list());
        addChildren(found, "network folder", Path.of("/run/claude-cage/net"));
        for (ProcessHandle process : ProcessHandle.allProcesses().toList()) {
            String commandLine = commandLine(process.pid());
            if (commandLine.contains("dev.claudecage.session.SupervisorMain")) {
                found.add("supervisor " + process.pid() + " " + commandLine);
            } else if (commandLine.startsWith("tcpdump -i nflog:") && process.parent().map(ProcessHandle::pid)
                    .orElse(1L) == 1L) {
                // A drop logger whose launcher died: it would keep a cage's network namespace alive.
                found.add("orphaned drop logger " + process.pid() + " " + commandLine);
            } else if (commandLine.contains("--root /run/claude-cage/runtime/") && !commandLine.contains(" run-")
                    && !commandLine.contains(" verify-")) {
                found.add("runtime process " + process.pid() + " " + commandLine);
            }
        }
        for (Path root : List.of(SESSION_DATA, SESSION_RUN, SESSION_CLONES)) {
            if (Files.isDirectory(root)) {
                try (Stream<Path> sessions = Files.list(root)) {
                    sessions.filter(dir -> dir.getFileName().toString().startsWith("it-"))
                            .forEach(dir -> found.add("session folder " + dir));
                }
            }
        }
        return new ArrayList<>(found);
    }

    /** A process's arguments joined by spaces, empty when it is gone. */
    public static String commandLine(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** Runs the launcher with these arguments (no stdin, the tests' own configuration, two minutes at most). */
    /** Destroys those of the named sessions that exist: a test's own, before and after it runs. */
    public static void destroySessions(List<String> names) {
        for (String name : names) {
            if (Files.exists(SESSION_DATA.resolve(name).resolve("state.json"))) {
                cage("destroy", "--timeout", "0", name);
            }
        }
    }

    /** The {@link #sessionLeftovers()} that name one of {@code names}. */
    public static List<String> sessionLeftoversOf(List<String> names) throws IOException, InterruptedException {
        return sessionLeftovers().stream().filter(item -> names.stream().anyMatch(item::contains)).toList();
    }

    public static Result cage(String... args) {
        return launch(List.of(args));
    }

    /** Runs the launcher with extra environment, e.g. CLAUDE_CAGE_MAX_SESSIONS. */
    public static Result cage(Map<String, String> env, String... args) {
        return launch(List.of(args), "", env, Duration.ofMinutes(2));
    }

    /** Destroys every test session ("it-..."), whatever state it is in; for set-up and tear-down. */
    public static void destroyTestSessions() {
        if (!Files.isDirectory(SESSION_DATA)) {
            return;
        }
        try (Stream<Path> sessions = Files.list(SESSION_DATA)) {
            for (Path dir : sessions.toList()) {
                String name = dir.getFileName().toString();
                if (name.startsWith("it-") && Files.exists(dir.resolve("state.json"))) {
                    cage("destroy", "--timeout", "0", name);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Starts the launcher on a real pseudo-terminal of the given size, as a user at a terminal would. */
    public static Terminal terminal(List<String> args, int rows, int columns) {
        return terminal(args, rows, columns, Map.of(), "");
    }

    /** As {@link #terminal(List, int, int)}, with {@code env} added to the launcher's environment. */
    public static Terminal terminal(List<String> args, int rows, int columns, Map<String, String> env) {
        return terminal(args, rows, columns, env, "");
    }

    /**
     * As {@link #terminal(List, int, int)}, with shell redirections after the arguments: {@code "< /dev/null"}
     * keeps stdin off the terminal, {@code "> FILE"} sends stdout to a file.
     */
    public static Terminal terminal(List<String> args, int rows, int columns, String redirections) {
        return terminal(args, rows, columns, Map.of(), redirections);
    }

    private static Terminal terminal(List<String> args, int rows, int columns, Map<String, String> env,
            String redirections) {
        StringBuilder command = new StringBuilder("stty rows " + rows + " cols " + columns + "; exec");
        command.append(' ').append(shellQuote(LAUNCHER.toString()));
        for (String arg : args) {
            command.append(' ').append(shellQuote(arg));
        }
        command.append(' ').append(redirections);
        // script(1) gives the command a pty of its own and copies our pipe to it: keys in, screen out.
        return new Terminal(startPlain(List.of("script", "--quiet", "--flush", "--return", "--command", command.toString(),
                "/dev/null"), env));
    }

    private static Process startPlain(List<String> command, Map<String, String> env) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("CLAUDE_CAGE_JAR", System.getProperty("claudecage.jar",
                Path.of("target/claude-cage.jar").toAbsolutePath().toString()));
        builder.environment().put("XDG_CONFIG_HOME", "/nonexistent-claude-cage-test-config");
        builder.environment().keySet().removeIf(key -> key.startsWith("CLAUDE_CAGE_") && !key.equals("CLAUDE_CAGE_JAR"));
        builder.environment().putAll(env);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command, e);
        }
    }

    private static String shellQuote(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /** A command on a pseudo-terminal: what it shows, and keys to type. */
    public static final class Terminal implements AutoCloseable {
        private final Process process;
        private final StringBuffer screen = new StringBuffer();
        private final Thread reader;

        Terminal(Process process) {
            this.process = process;
            this.reader = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try (var in = process.getInputStream()) {
                    int read;
                    while ((read = in.read(buffer)) >= 0) {
                        screen.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // The terminal closed.
                }
            }, "terminal-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Types {@code keys} (use \r for Enter, \u0010\u0011 for Ctrl-P Ctrl-Q). */
        public Terminal type(String keys) {
            try {
                process.getOutputStream().write(keys.getBytes(StandardCharsets.UTF_8));
                process.getOutputStream().flush();
            } catch (IOException e) {
                throw new IllegalStateException("cannot type into the terminal: " + e.getMessage() + "\n" + screen);
            }
            return this;
        }

        /** Waits until the screen shows {@code text}, counting from {@code from}; returns where it was found. */
        public int await(String text, int from, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                int at = screen.indexOf(text, from);
                if (at >= 0) {
                    return at;
                }
                Thread.sleep(20);
            }
            throw new AssertionError("the terminal did not show '" + text + "' within " + timeout + "; it shows:\n"
                    + screen);
        }

        public int await(String text, Duration timeout) throws InterruptedException {
            return await(text, 0, timeout);
        }

        public String screen() {
            return screen.toString();
        }

        /** Waits for the command to end; returns its exit code. */
        public int awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("the terminal's command did not end within " + timeout + "; it shows:\n" + screen);
            }
            reader.join(2000);
            return process.exitValue();
        }

        @Override
        public void close() {
            try {
                process.getOutputStream().close();
            } catch (IOException e) {
                // Closed already.
            }
            process.destroy();
        }
    }
}
