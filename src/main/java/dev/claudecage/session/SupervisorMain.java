package dev.claudecage.session;

import dev.claudecage.config.CageConfig;
import dev.claudecage.host.Directories;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.StatePaths;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Entry point of a session's supervisor JVM: {@code java -cp claude-cage.jar
 * dev.claudecage.session.SupervisorMain NAME}, started detached by {@code claude-cage start}
 * ({@link SupervisorLauncher}) before it records the session's plan. Its own diagnostics go to
 * the session's supervisor.log.
 */
public final class SupervisorMain {

    /** The supervisor's own log is kept small: it starts over past this size, keeping one old file. */
    private static final long LOG_LIMIT = 1024 * 1024;
    /** The start waits for the supervisor that waits for the plan: look often. */
    private static final long PLAN_POLL_MILLIS = 5;

    private SupervisorMain() {
    }

    public static void main(String[] args) {
        if (args.length != 1 || !SessionName.isValid(args[0])) {
            System.err.println("usage: SupervisorMain SESSION-NAME");
            System.exit(2);
        }
        SessionName name = SessionName.of(args[0]);
        // The C library binding (JNA, about 30 ms) loads on the other core while this thread reads the
        // session's configuration: the cage's preparation needs it first thing after the plan.
        LinuxSyscalls.loadInBackground();
        SessionStore store = new SessionStore(SessionRoots.current());
        Optional<SessionRecord> record = store.read(name);
        if (record.isEmpty()) {
            System.err.println("supervisor: no session named " + name);
            System.exit(2);
        }
        Supplier<CageConfig> config = preloaded(record.get());
        SessionPaths paths = store.paths(record.get());
        if (!awaitPlan(paths, record.get().launcher(), Supervisor.START_TIMEOUT)) {
            // The start failed or died before it recorded the plan: it removes or keeps the session; nothing to do here.
            System.exit(0);
        }
        PrintStream log;
        try {
            log = openLog(paths.supervisorLog());
        } catch (IOException e) {
            System.err.println("supervisor: cannot open " + paths.supervisorLog() + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        System.setOut(log);
        System.setErr(log);
        int code = new Supervisor(store, name, record.get().startedAt(), config, StatePaths.current(),
                ProcessRunner.fromEnvironment(), log).run();
        log.flush();
        System.exit(code);
    }

    /**
     * The session's configuration, loaded while the start still resolves the plan (the first use of
     * the configuration's classes costs about as much); one that no longer loads (a mounted folder
     * gone) fails the run when the supervisor asks for it, and the record says why.
     */
    private static Supplier<CageConfig> preloaded(SessionRecord record) {
        try {
            CageConfig config = SessionConfig.load(record.config());
            return () -> config;
        } catch (RuntimeException e) {
            return () -> {
                throw e;
            };
        }
    }

    /**
     * Waits until the start that launched this supervisor has recorded the session's plan; false
     * when that start ends first (it failed, or was killed), or the plan does not come within
     * {@code timeout}. Only ever a start writes the plan, and every end of a run removes it.
     */
    static boolean awaitPlan(SessionPaths paths, ProcessIdentity launcher, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(paths.planFile())) {
            // The plan may have come just before the start ended: look once more.
            if (launcher == null || !launcher.isAlive() || System.nanoTime() > deadline) {
                return Files.exists(paths.planFile());
            }
            try {
                Thread.sleep(PLAN_POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static PrintStream openLog(Path file) throws IOException {
        Directories.createPrivate(file.getParent());
        if (Files.exists(file) && Files.size(file) > LOG_LIMIT) {
            Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        return new PrintStream(new FileOutputStream(file.toFile(), true), true, StandardCharsets.UTF_8);
    }
}
