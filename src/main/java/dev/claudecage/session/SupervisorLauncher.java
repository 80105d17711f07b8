package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.ThisJvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starts a session's supervisor as a JVM of its own, detached from the command that starts it:
 * {@code setsid} gives it a session without a controlling terminal (the user's Ctrl-C and a closed
 * terminal never reach it), {@code env -C /} keeps it from pinning the caller's working folder.
 * {@code --fork} makes it a grandchild, not a child: no thread of the starting JVM waits on it, so
 * that JVM exits at once (a thread blocked in waitpid holds up a JVM's exit by 300 ms).
 * It runs the same java and the same class path as this process, so an installed claude-cage and
 * a source tree each start their own.
 *
 * <p>It is started before the start resolves the session's plan: its JVM comes up (and reads the
 * session's record and configuration) while this process resolves and records the plan, which
 * takes about as long. It then waits for the plan file, written last and whole (after the API
 * key); should the start fail or die first, the supervisor exits having touched nothing of the
 * session ({@link SupervisorMain#awaitPlan}). Then the start waits for the supervisor's record to
 * say how the start went.
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

    static List<String> command(Path java, String classPath, SessionName name, List<String> archiveFlags) {
        List<String> command = new ArrayList<>(List.of("setsid", "--fork", "env", "-C", "/", "MALLOC_ARENA_MAX=2", java.toString()));
        command.addAll(JVM_FLAGS);
        command.addAll(archiveFlags);
        command.addAll(List.of("-cp", classPath, SupervisorMain.class.getName(), name.value()));
        return command;
    }

    /**
     * The class path for a supervisor: this JVM's, with a single jar replaced by its pinned copy in
     * {@code jarDir}, made once per version of the jar, atomically. The copy is named by what the
     * file system says of the jar (its path, device, inode, size, modification and change times):
     * a start finds it without reading the jar (hashing its 7 MB took about 80 ms of every start),
     * and a rebuilt or reinstalled jar gets a copy of its own. Folders of classes (tests) stay as
     * they are.
     */
    static String pinnedClassPath(String classPath, Path jarDir) {
        String absolute = ThisJvm.absoluteClassPath(classPath);
        Path jar = Path.of(absolute);
        if (absolute.contains(java.io.File.pathSeparator) || !absolute.endsWith(".jar") || !Files.isRegularFile(jar)) {
            return absolute;
        }
        try {
            for (int attempt = 0; ; attempt++) {
                String version = version(jar);
                Path pinned = jarDir.resolve("claude-cage-" + version + ".jar");
                if (Files.isRegularFile(pinned)) {
                    return pinned.toString();
                }
                byte[] content = Files.readAllBytes(jar);
                // Written while it was read: the copy would hold a mix; read the new version instead.
                if (!version.equals(version(jar))) {
                    if (attempt < 3) {
                        continue;
                    }
                    throw new IOException("it changes while it is copied");
                }
                Directories.createPrivate(jarDir);
                Directories.writeAtomically(pinned, content, "rw-r--r--");
                return pinned.toString();
            }
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new CageException("cannot keep a copy of " + jar + " in " + jarDir + " for the supervisor: "
                    + e.getMessage());
        }
    }

    /** What tells one version of the jar from another, short and fit for a file name. */
    private static String version(Path jar) throws IOException, NoSuchAlgorithmException {
        Map<String, Object> stat = Files.readAttributes(jar, "unix:dev,ino,size,lastModifiedTime,ctime");
        String identity = String.join("|", jar.toString(), String.valueOf(stat.get("dev")),
                String.valueOf(stat.get("ino")), String.valueOf(stat.get("size")),
                String.valueOf(((FileTime) stat.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS)),
                String.valueOf(((FileTime) stat.get("ctime")).to(TimeUnit.NANOSECONDS)));
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(identity.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    }

    /**
     * Starts the supervisor of {@code name}, which comes up and waits for the session's plan
     * (recorded next, before {@link Launch#proceed}).
     */
    public Launch spawn(SessionStore store, SessionName name) {
        String classPath = pinnedClassPath(System.getProperty("java.class.path"), store.roots().supervisorJars());
        SupervisorArchive archive = classPath.endsWith(".jar") ? SupervisorArchive.of(Path.of(classPath)) : null;
        Launch launch = new Launch(store, name, archive);
        try {
            runner.startBackground(command(ThisJvm.java(), classPath, name, inheritedFlags(archive)));
        } catch (RuntimeException e) {
            launch.close();
            throw e;
        }
        return launch;
    }

    /**
     * The supervisor's archive, and JNA's native library where the launcher found it unpacked for
     * this jar (the pinned copy is the same version): without it every supervisor copied the
     * library out of the jar into a temporary file of its own before its first system call.
     */
    private static List<String> inheritedFlags(SupervisorArchive archive) {
        List<String> flags = new ArrayList<>(archive == null ? List.of() : archive.jvmFlags());
        String jnaLibrary = System.getProperty(JNA_BOOT_LIBRARY_PATH);
        if (jnaLibrary != null) {
            flags.add("-D" + JNA_BOOT_LIBRARY_PATH + "=" + jnaLibrary);
        }
        return flags;
    }

    private static final String JNA_BOOT_LIBRARY_PATH = "jna.boot.library.path";

    /** A supervisor that is up, or coming up, and waits for the session's plan. */
    public final class Launch implements AutoCloseable {
        private final SessionStore store;
        private final SessionName name;
        private final SupervisorArchive archive;

        private Launch(SessionStore store, SessionName name, SupervisorArchive archive) {
            this.store = store;
            this.name = name;
            this.archive = archive;
        }

        /**
         * The plan is recorded: waits, by reading the session's record, until the cage runs (or
         * has already ended by itself) or the start has failed.
         *
         * @param startedAt the record's startedAt of this run, to tell it from an earlier run
         */
        public Started proceed(String startedAt, Duration timeout) {
            Started started = awaitStart(store, name, startedAt, timeout, store.paths(store.require(name)));
            if (archive != null) {
                archive.supervisorStarted(runner);
            }
            return started;
        }

        /** A start that failed leaves no half list of classes behind. */
        @Override
        public void close() {
            if (archive != null) {
                archive.forgetListing();
            }
        }
    }

    private Started awaitStart(SessionStore store, SessionName name, String startedAt, Duration timeout,
                               SessionPaths paths) {
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
