package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.process.ProcessRunner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Starts a session's supervisor as a JVM of its own, detached from the command that starts it:
 * {@code setsid} gives it a session without a controlling terminal (the user's Ctrl-C and a closed
 * terminal never reach it), {@code env -C /} keeps it from pinning the caller's working folder.
 * It runs the same java and the same class path as this process, so an installed claude-cage and
 * a source tree each start their own. Then waits for the supervisor's {@link Handshake}.
 */
public final class SupervisorLauncher {

    /**
     * A supervisor idles for hours: small, fixed heap, C1 only, the serial collector, small thread
     * stacks, a small code cache, no perf-data file. The heap leaves room for the egress proxy and
     * gateway threads of a filtered cage.
     */
    static final List<String> JVM_FLAGS = List.of(
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-Xshare:auto",
            "-Xms8m", "-Xmx64m", "-Xss256k", "-XX:ReservedCodeCacheSize=16m", "-XX:MaxMetaspaceSize=64m",
            "-XX:-UsePerfData");

    private final ProcessRunner runner;

    public SupervisorLauncher(ProcessRunner runner) {
        this.runner = runner;
    }

    /** How a start went: the supervisor's pid and the container, or why it failed. */
    public record Started(long supervisorPid, String containerId) {
    }

    static List<String> command(Path java, String classPath, SessionName name) {
        List<String> command = new ArrayList<>(List.of("setsid", "env", "-C", "/", java.toString()));
        command.addAll(JVM_FLAGS);
        command.addAll(List.of("-cp", classPath, SupervisorMain.class.getName(), name.value()));
        return command;
    }

    /** This JVM's class path with every entry absolute: the supervisor starts in /. */
    static String absoluteClassPath(String classPath) {
        return Arrays.stream(classPath.split(java.io.File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().normalize().toString())
                .collect(Collectors.joining(java.io.File.pathSeparator));
    }

    static Path thisJava() {
        return ProcessHandle.current().info().command().map(Path::of)
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    /**
     * The class path for a supervisor: this JVM's, with a single jar replaced by its pinned copy in
     * {@code jarDir} (made once per content, atomically). Folders of classes (tests) stay as they are.
     */
    static String pinnedClassPath(String classPath, Path jarDir) {
        String absolute = absoluteClassPath(classPath);
        Path jar = Path.of(absolute);
        if (absolute.contains(java.io.File.pathSeparator) || !absolute.endsWith(".jar") || !Files.isRegularFile(jar)) {
            return absolute;
        }
        try {
            byte[] content = Files.readAllBytes(jar);
            String digest = java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(content)).substring(0, 16);
            Path pinned = jarDir.resolve("claude-cage-" + digest + ".jar");
            if (!Files.isRegularFile(pinned)) {
                dev.claudecage.host.Directories.createPrivate(jarDir);
                Path temporary = jarDir.resolve(".claude-cage-" + digest + ".jar." + ProcessHandle.current().pid());
                Files.write(temporary, content);
                Files.move(temporary, pinned, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return pinned.toString();
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new CageException("cannot keep a copy of " + jar + " in " + jarDir + " for the supervisor: "
                    + e.getMessage());
        }
    }

    /** Starts the supervisor of {@code name} and waits until its cage runs or has failed. */
    public Started launch(SessionName name, SessionPaths paths, Path jarDir, Duration timeout) {
        List<String> command = command(thisJava(), pinnedClassPath(System.getProperty("java.class.path"), jarDir), name);
        Process process = runner.startBackground(command);
        CompletableFuture<String> errors = CompletableFuture.supplyAsync(() -> readAll(process));
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        long pid = -1;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = readLine(lines, deadline, name, paths);
            if (line == null) {
                throw new CageException("the supervisor of session " + name + " ended before its cage ran"
                        + explain(errors, paths), "its log is " + paths.supervisorLog());
            }
            String word = line.split(" ", 2)[0];
            String detail = line.contains(" ") ? line.substring(line.indexOf(' ') + 1) : "";
            switch (word) {
                case Handshake.SUPERVISING -> pid = Long.parseLong(detail.strip());
                case Handshake.RUNNING -> {
                    return new Started(pid, detail.strip());
                }
                case Handshake.FAILED -> throw new CageException("session " + name + " did not start: " + detail,
                        "the supervisor's log is " + paths.supervisorLog());
                default -> {
                    // A line from the JVM itself; the log has it too.
                }
            }
        }
    }

    private static String readLine(BufferedReader lines, long deadline, SessionName name, SessionPaths paths) {
        CompletableFuture<String> next = CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (IOException e) {
                return null;
            }
        });
        try {
            return next.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new CageException("the supervisor of session " + name + " did not report its cage running in time",
                    "see " + paths.supervisorLog() + "; 'claude-cage status " + name + "' shows where it is");
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while session " + name + " was starting");
        }
    }

    private static String explain(CompletableFuture<String> errors, SessionPaths paths) {
        String stderr;
        try {
            stderr = errors.get(2, TimeUnit.SECONDS).strip();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stderr = "";
        } catch (ExecutionException | TimeoutException e) {
            stderr = "";
        }
        if (!stderr.isEmpty()) {
            return ": " + stderr;
        }
        String tail = tail(paths.supervisorLog(), 3);
        return tail.isEmpty() ? "" : ": " + tail;
    }

    static String tail(Path file, int count) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join(" | ", all.subList(Math.max(0, all.size() - count), all.size())).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static String readAll(Process process) {
        try {
            return new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
