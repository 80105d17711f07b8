package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.ThisJvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts a session's supervisor as a JVM of its own, detached from the command that starts it:
 * {@code setsid} gives it a session without a controlling terminal (the user's Ctrl-C and a closed
 * terminal never reach it), {@code env -C /} keeps it from pinning the caller's working folder.
 * {@code --fork} makes it a grandchild, not a child: no thread of the starting JVM waits on it, so
 * that JVM exits at once (a thread blocked in waitpid holds up a JVM's exit by 300 ms).
 * It runs the same java and the same class path as this process, so an installed claude-cage and
 * a source tree each start their own. Then waits for the supervisor's record to say how the start went.
 */
public final class SupervisorLauncher {

    /**
     * A supervisor idles for hours: C1 only, the serial collector, a small heap that gives memory
     * back (room to grow for the egress proxy and gateway of a filtered cage), small thread stacks
     * and code cache, no perf-data file. The JDK's class-data archive is mapped where it was made
     * rather than relocated, so its pages stay clean and are shared by every supervisor (about
     * 6 MB less private memory each); an unknown option must never stop a supervisor from starting.
     * glibc's malloc gets two arenas instead of one per core and thread.
     */
    static final List<String> JVM_FLAGS = List.of(ThisJvm.NATIVE_ACCESS,
            "-XX:+IgnoreUnrecognizedVMOptions", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:CICompilerCount=1", "-Xshare:auto", "-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0",
            "-Xms4m", "-Xmx64m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", "-Xss256k",
            "-XX:ReservedCodeCacheSize=16m", "-XX:MaxMetaspaceSize=64m", "-XX:-UsePerfData");

    /** How long a supervisor JVM may take to come up and claim its session. */
    static final Duration SUPERVISOR_UP_TIMEOUT = Duration.ofSeconds(20);
    private static final long POLL_MILLIS = 20;

    private final ProcessRunner runner;

    public SupervisorLauncher(ProcessRunner runner) {
        this.runner = runner;
    }

    /** How a start went: the supervisor's pid and the container, or why it failed. */
    public record Started(long supervisorPid, String containerId) {
    }

    static List<String> command(Path java, String classPath, SessionName name) {
        List<String> command = new ArrayList<>(List.of("setsid", "--fork", "env", "-C", "/", "MALLOC_ARENA_MAX=2", java.toString()));
        command.addAll(JVM_FLAGS);
        command.addAll(List.of("-cp", classPath, SupervisorMain.class.getName(), name.value()));
        return command;
    }

    /**
     * The class path for a supervisor: this JVM's, with a single jar replaced by its pinned copy in
     * {@code jarDir} (made once per content, atomically). Folders of classes (tests) stay as they are.
     */
    static String pinnedClassPath(String classPath, Path jarDir) {
        String absolute = ThisJvm.absoluteClassPath(classPath);
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
                Directories.createPrivate(jarDir);
                Directories.writeAtomically(pinned, content, "rw-r--r--");
            }
            return pinned.toString();
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new CageException("cannot keep a copy of " + jar + " in " + jarDir + " for the supervisor: "
                    + e.getMessage());
        }
    }

    /**
     * Starts the supervisor of {@code name} and waits, by reading the session's record, until the
     * cage runs (or has already ended by itself) or the start has failed.
     *
     * @param startedAt the record's startedAt of this run, to tell it from an earlier run
     */
    public Started launch(SessionStore store, SessionName name, String startedAt, Duration timeout) {
        SessionPaths paths = store.paths(store.require(name));
        List<String> command = command(ThisJvm.java(), pinnedClassPath(System.getProperty("java.class.path"),
                store.roots().supervisorJars()), name);
        runner.startBackground(command);
        long deadline = System.nanoTime() + timeout.toNanos();
        long upDeadline = System.nanoTime() + SUPERVISOR_UP_TIMEOUT.toNanos();
        while (true) {
            Optional<SessionRecord> read = readQuietly(store, name);
            if (read.isEmpty() || !startedAt.equals(read.get().startedAt())) {
                throw new CageException("session " + name + " was removed or restarted while it was starting");
            }
            SessionRecord record = read.get();
            switch (record.status()) {
                case RUNNING, STOPPING, STOPPED, EXITED -> {
                    return new Started(record.supervisor() == null ? -1 : record.supervisor().pid(), record.containerId());
                }
                case FAILED, CRASHED -> throw new CageException("session " + name + " did not start: "
                        + (record.problem() == null ? "see " + paths.supervisorLog() : record.problem()));
                case STARTING -> {
                    if (record.supervisor() != null && !record.supervisor().isAlive()) {
                        throw new CageException("the supervisor of session " + name + " died before its cage ran"
                                + explain(paths), "its log is " + paths.supervisorLog());
                    }
                    if (record.supervisor() == null && System.nanoTime() > upDeadline) {
                        throw new CageException("the supervisor of session " + name + " did not come up within "
                                + SUPERVISOR_UP_TIMEOUT.toSeconds() + "s" + explain(paths),
                                "run the start again with CLAUDE_CAGE_DEBUG=1 to see the command that starts it");
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new CageException("session " + name + " did not reach 'running' within " + timeout.toSeconds() + "s",
                        "see " + paths.supervisorLog() + "; 'claude-cage status " + name + "' shows where it is");
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CageException("interrupted while session " + name + " was starting");
            }
        }
    }

    /** A record being replaced is never half-written, but a read may meet the rename: try again. */
    private static Optional<SessionRecord> readQuietly(SessionStore store, SessionName name) {
        for (int attempt = 0; ; attempt++) {
            try {
                return store.read(name);
            } catch (CageException e) {
                if (attempt >= 5) {
                    throw e;
                }
            }
        }
    }

    private static String explain(SessionPaths paths) {
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
}
