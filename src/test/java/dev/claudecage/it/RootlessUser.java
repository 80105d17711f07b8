package dev.claudecage.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway unprivileged user for the rootless tests, made by the test as root: a login with a
 * home, one subordinate uid and gid range of our choosing in /etc/subuid and /etc/subgid, a private
 * runtime folder for $XDG_RUNTIME_DIR, and a minbase root file system unpacked by the user itself
 * ({@code claude-cage unshare}) so that its files belong to the user's mapped ids. {@link #close()}
 * removes the user, its home, its ranges, its runtime folder and any process it left, on every path.
 */
final class RootlessUser implements AutoCloseable {

    /** Above the ranges useradd hands out here (SUB_UID_MAX 600100000), so never another user's. */
    static final long SUBORDINATE_START = 3_000_000_000L;
    static final long SUBORDINATE_COUNT = 65536;
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(2);

    final String name;
    final int uid;
    final int gid;
    final Path home;
    final Path runtimeDir;
    final Path rootfs;
    final Path workspace;
    private final List<String> cleanupProblems = new ArrayList<>();

    private RootlessUser(String name, int uid, int gid) {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
        this.home = Path.of("/home", name);
        this.runtimeDir = Path.of("/tmp", name + "-run");
        this.rootfs = home.resolve("rootfs");
        this.workspace = home.resolve("workspace");
    }

    static RootlessUser create() throws IOException, InterruptedException {
        byte[] bytes = new byte[4];
        new SecureRandom().nextBytes(bytes);
        String name = "ccrl" + HexFormat.of().formatHex(bytes);
        // No ranges from useradd itself: the test's own, far from everyone's, are the only ones.
        run(List.of("useradd", "--create-home", "--shell", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name));
        RootlessUser user = null;
        try {
            int uid = Integer.parseInt(run(List.of("id", "-u", name)).strip());
            int gid = Integer.parseInt(run(List.of("id", "-g", name)).strip());
            user = new RootlessUser(name, uid, gid);
            String range = SUBORDINATE_START + "-" + (SUBORDINATE_START + SUBORDINATE_COUNT - 1);
            run(List.of("usermod", "--add-subuids", range, "--add-subgids", range, name));
            run(List.of("install", "-d", "-m", "700", "-o", name, "-g", name, user.runtimeDir.toString()));
            user.asUser(List.of("mkdir", "-p", user.rootfs.toString(), user.workspace.toString()));
            user.unpackRootfs();
            return user;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            if (user != null) {
                user.close();
            } else {
                runAllowingFailure(List.of("userdel", "--remove", name));
            }
            throw e;
        }
    }

    /** The minbase rootfs, read by root and unpacked by the user in its namespace (no device nodes: /dev is a tmpfs). */
    private void unpackRootfs() throws IOException, InterruptedException {
        Process reader = new ProcessBuilder("tar", "-C", CageHarness.ROOTFS.toString(), "-cf", "-", "--exclude=./dev/*", ".")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Process writer = new ProcessBuilder(commandAsUser(List.of("unshare", "--", "tar", "-C", rootfs.toString(),
                "-xpf", "-", "--numeric-owner"))).redirectErrorStream(true).start();
        try (var in = reader.getInputStream(); var out = writer.getOutputStream()) {
            in.transferTo(out);
        }
        String output = new String(writer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!reader.waitFor(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                || !writer.waitFor(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                || reader.exitValue() != 0 || writer.exitValue() != 0) {
            reader.destroyForcibly();
            writer.destroyForcibly();
            throw new AssertionError("unpacking the rootfs as " + name + " failed: " + output);
        }
    }

    /** claude-cage's launcher as this user, with the environment a login would give it. */
    List<String> commandAsUser(List<String> claudeCageArgs) {
        return commandAsUser(java.util.Map.of(), claudeCageArgs);
    }

    /** As {@link #commandAsUser(List)}, with {@code environment} added to the login's. */
    List<String> commandAsUser(java.util.Map<String, String> environment, List<String> claudeCageArgs) {
        List<String> command = new ArrayList<>(List.of("runuser", "-u", name, "--", "env", "-i",
                "HOME=" + home, "USER=" + name, "LOGNAME=" + name, "PATH=/usr/local/bin:/usr/bin:/bin",
                "XDG_RUNTIME_DIR=" + runtimeDir, "XDG_CONFIG_HOME=/nonexistent-claude-cage-test-config",
                "CLAUDE_CAGE_JAR=" + System.getProperty("claudecage.jar",
                        Path.of("target/claude-cage.jar").toAbsolutePath().toString())));
        environment.forEach((key, value) -> command.add(key + "=" + value));
        command.add(Path.of("bin/claude-cage").toAbsolutePath().toString());
        command.addAll(claudeCageArgs);
        return command;
    }

    CageHarness.Result launch(String... args) {
        return launchWith(java.util.Map.of(), args);
    }

    CageHarness.Result launchWith(java.util.Map<String, String> environment, String... args) {
        try {
            Process process = new ProcessBuilder(commandAsUser(environment, List.of(args))).directory(home.toFile()).start();
            return CageHarness.waitFor(process, "", STEP_TIMEOUT);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A plain command as this user (no claude-cage). */
    String asUser(List<String> command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", name, "--"));
        full.addAll(command);
        return run(full);
    }

    /**
     * The processes this user still runs. Zombies are not counted: a supervisor or a namespace
     * holder whose parent has ended already has ended itself, and waits only for init (on this
     * VM, not systemd, and slow at it) to collect its exit status.
     */
    List<ProcessHandle> processes() {
        return ProcessHandle.allProcesses()
                .filter(handle -> {
                    Path proc = Path.of("/proc", Long.toString(handle.pid()));
                    try {
                        String stat = Files.readString(proc.resolve("stat"));
                        boolean zombie = stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
                        return !zombie && Files.getAttribute(proc, "unix:uid").equals(uid);
                    } catch (IOException | RuntimeException gone) {
                        return false;
                    }
                })
                .toList();
    }

    /** What the user's runtime folder still holds under claude-cage's runs and runtime state. */
    List<String> leftovers() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path dir : List.of(runtimeDir.resolve("claude-cage/runs"), runtimeDir.resolve("claude-cage/runtime/runc"))) {
            if (Files.isDirectory(dir)) {
                try (var children = Files.list(dir)) {
                    children.forEach(child -> found.add(child.toString()));
                }
            }
        }
        processes().forEach(handle -> found.add("process " + handle.pid() + " "
                + handle.info().commandLine().orElse("?")));
        return found;
    }

    @Override
    public void close() {
        for (ProcessHandle handle : processes()) {
            cleanupProblems.add("process left: " + handle.pid() + " " + handle.info().commandLine().orElse("?"));
            handle.destroyForcibly();
        }
        step(List.of("userdel", "--remove", name));
        step(List.of("rm", "-rf", "--one-file-system", runtimeDir.toString()));
        for (Path file : List.of(Path.of("/etc/subuid"), Path.of("/etc/subgid"))) {
            try {
                List<String> lines = Files.readAllLines(file);
                List<String> kept = lines.stream().filter(line -> !line.startsWith(name + ":")).toList();
                if (kept.size() != lines.size()) {
                    Files.write(file, kept);
                }
            } catch (IOException e) {
                cleanupProblems.add("cannot clean " + file + ": " + e.getMessage());
            }
        }
        if (Files.exists(home)) {
            step(List.of("rm", "-rf", "--one-file-system", home.toString()));
        }
        if (!cleanupProblems.isEmpty()) {
            throw new AssertionError("cleanup of test user " + name + ": " + cleanupProblems);
        }
    }

    private void step(List<String> command) {
        try {
            String problem = runAllowingFailure(command);
            if (problem != null) {
                cleanupProblems.add(problem);
            }
        } catch (IOException | InterruptedException e) {
            cleanupProblems.add(String.join(" ", command) + ": " + e);
        }
    }

    /** A command as root (the test's own user); its output, or an AssertionError when it fails. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }

    /** Null when the command succeeded, else what went wrong. */
    private static String runAllowingFailure(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            return String.join(" ", command) + " did not finish";
        }
        return process.exitValue() == 0 ? null : String.join(" ", command) + " failed: " + output.strip();
    }
}
