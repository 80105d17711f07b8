package dev.claudecage.session;

import dev.claudecage.host.Directories;
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
import java.util.Optional;

/**
 * Entry point of a session's supervisor JVM: {@code java -cp claude-cage.jar
 * dev.claudecage.session.SupervisorMain NAME}, started detached by {@code claude-cage start}
 * ({@link SupervisorLauncher}). Its own diagnostics go to the session's supervisor.log.
 */
public final class SupervisorMain {

    /** The supervisor's own log is kept small: it starts over past this size, keeping one old file. */
    private static final long LOG_LIMIT = 1024 * 1024;

    private SupervisorMain() {
    }

    public static void main(String[] args) {
        if (args.length != 1 || !SessionName.isValid(args[0])) {
            System.err.println("usage: SupervisorMain SESSION-NAME");
            System.exit(2);
        }
        SessionName name = SessionName.of(args[0]);
        SessionStore store = new SessionStore(SessionRoots.current());
        Optional<SessionRecord> record = store.read(name);
        if (record.isEmpty()) {
            System.err.println("supervisor: no session named " + name);
            System.exit(2);
        }
        SessionPaths paths = store.paths(record.get());
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
        int code = new Supervisor(store, name, StatePaths.current(), ProcessRunner.fromEnvironment(), log).run();
        log.flush();
        System.exit(code);
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
