package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.Mode;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.desktop.DesktopAccess;
import dev.claudecage.desktop.DesktopCage;
import dev.claudecage.desktop.DesktopPort;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.json.Json;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.host.Host;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.workspace.WorkspaceClone;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The session commands' core: start, stop, destroy, gc, and the truthful views that list and
 * status print. The CLI classes only parse and print.
 */
public final class Sessions {

    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);
    static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    /** How long a supervisor may take, after its cage has ended, to clean up and exit. */
    static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(60);
    /** A pinned jar younger than this may belong to a start under way. */
    static final Duration UNUSED_JAR_AGE = Duration.ofMinutes(10);

    private final SessionStore store;
    private final StatePaths statePaths;
    private final ImageStore images;
    private final ProcessRunner runner;
    private final HostProbe probe;
    private final Reconciler reconciler;
    private final Janitor janitor;
    private final Clock clock;

    /**
     * @param launcherMainClass the main class of claude-cage's command line, by which gc knows a
     *                          one-shot launcher ({@code run}, {@code verify}) that may own a cage
     */
    public Sessions(SessionStore store, StatePaths statePaths, ImageStore images, ProcessRunner runner, Clock clock,
                    String launcherMainClass) {
        this.store = store;
        this.statePaths = statePaths;
        this.images = images;
        this.runner = runner;
        this.probe = new HostProbe(statePaths, runner);
        this.reconciler = new Reconciler(probe);
        this.janitor = new Janitor(probe, runner, launcherMainClass);
        this.clock = clock;
    }

    public SessionStore store() {
        return store;
    }

    public HostProbe probe() {
        return probe;
    }

    /** The copy of session {@code name}, started with --clone, for diff and apply. */
    public WorkspaceClone workspaceClone(SessionName name) {
        return WorkspaceClone.open(name.value(), store.paths(store.require(name)).dataDir(), runner);
    }

    /** The configuration session {@code name} was created with. */
    public CageConfig config(SessionName name) {
        return SessionConfig.load(store.require(name).config());
    }

    // ---- views

    public List<SessionView> list() {
        return list(new ArrayList<>());
    }

    /** Every session, reconciled; a session whose record cannot be read goes to {@code problems} instead. */
    public List<SessionView> list(List<String> problems) {
        List<RuntimeContainer> containers = probe.containers();
        List<SessionView> views = new ArrayList<>();
        for (SessionName name : store.names()) {
            try {
                store.read(name).ifPresent(record -> views.add(reconciler.view(record, containers)));
            } catch (CageException e) {
                problems.add(e.getMessage() + (e.hint() == null ? "" : " (" + e.hint() + ")"));
            }
        }
        return views;
    }

    public SessionView view(SessionName name) {
        return reconciler.view(store.require(name));
    }

    /** How to reach a desktop session (its URL and VNC password), or empty for a CLI session. */
    public Optional<DesktopAccess> desktopAccess(SessionName name) {
        return DesktopAccess.read(store.paths(store.require(name)).desktopFile());
    }

    /** What list's table shows of a session: what a report has less its policy check, cgroup numbers and desktop. */
    public SessionSummary summary(SessionView view) {
        return SessionSummary.of(view, store.paths(view.record()), clock.instant());
    }

    public SessionReport report(SessionView view) {
        SessionRecord record = view.record();
        CgroupStats resources = record.containerId() == null ? null
                : CgroupStats.read(HostProbe.CGROUP_ROOT, record.containerId());
        SessionPaths paths = store.paths(record);
        return SessionReport.of(view, paths, resources, DesktopAccess.read(paths.desktopFile()).orElse(null),
                clock.instant());
    }

    // ---- start

    /**
     * What to start.
     *
     * @param name      the session, or empty for a generated name
     * @param config    the configuration of a new session; null to start an existing one as it was created
     * @param command   the command for a new session
     * @param apiKey    the key given with --api-key, or null to let the supervisor find the host's key or Claude
     *                  login itself ({@link dev.claudecage.claudecode.HostLogin})
     * @param rows      the terminal's size when the user attaches at once, else 0
     * @param maxSessions the limit on sessions running at once
     * @param desktopPort where a new desktop session is published; null for a CLI session or an existing one
     * @param cloneWorkspace run a new session on a private copy of the repository mounted at /workspace
     */
    public record StartRequest(Optional<SessionName> name, CageConfig config, List<String> command, boolean ephemeral,
                               Supplier<char[]> apiKey, int rows, int columns, int maxSessions, DesktopPort desktopPort,
                               boolean cloneWorkspace) {
    }

    public record StartResult(SessionName name, long supervisorPid, String containerId, boolean created) {
    }

    public StartResult start(StartRequest request) {
        if (request.config() != null) {
            checkNewSession(request.config(), request.ephemeral(), request.desktopPort(), request.cloneWorkspace());
        }
        store.ensureRoots();
        SessionName name;
        SessionPaths paths;
        boolean created;
        try (FileLock storeLock = store.lockStore()) {
            Optional<SessionName> given = request.name();
            if (given.isPresent() && store.exists(given.get())) {
                name = given.get();
                if (request.config() != null) {
                    throw new UserInputException("session '" + name + "' exists already, with the settings it was created "
                            + "with", "start it as it is with 'claude-cage start --name " + name + "', or remove it first "
                            + "with 'claude-cage destroy " + name + "'");
                }
                paths = restartLocked(name, storeLock, request);
                created = false;
            } else {
                if (request.config() == null) {
                    throw new SessionNotFoundException(given.orElseThrow(), store.names());
                }
                checkLimit(request.maxSessions(), null);
                Set<String> taken = new HashSet<>();
                store.names().forEach(existing -> taken.add(existing.value()));
                store.strayRunFolders().forEach(stray -> taken.add(stray.value()));
                name = given.orElseGet(() -> SessionName.generate(taken, ThreadLocalRandom.current()));
                paths = createLocked(name, storeLock, request);
                created = true;
            }
        }
        // The supervisor's JVM comes up while the plan is resolved; it waits for the plan (see SupervisorLauncher).
        try (SupervisorLauncher.Launch launch = new SupervisorLauncher(runner).spawn(store, name)) {
            if (request.apiKey() != null) {
                ApiKeyHandOff.give(paths.keyFile(), request.apiKey());
            }
            // Resolved here, once: the supervisor and verify --session read it back (see planFile). Written
            // last: the supervisor goes on when it is there.
            recordPlan(paths, SessionConfig.load(store.require(name).config()));
            SupervisorLauncher.Started started = launch.proceed(store.require(name).startedAt(), START_TIMEOUT);
            return new StartResult(name, started.supervisorPid(), started.containerId(), created);
        } catch (CageException e) {
            if (created) {
                forgetFailedSession(name);
            }
            throw e;
        }
    }

    private void recordPlan(SessionPaths paths, CageConfig config) {
        CagePlan plan = CagePlan.resolve(config, statePaths, images, runner);
        try {
            Directories.writePrivateFile(paths.planFile(), Json.writePlainRecord(plan.recorded()));
        } catch (IOException e) {
            throw new CageException("cannot record the plan of session " + paths.name() + " in " + paths.planFile()
                    + ": " + e.getMessage());
        }
    }

    /** The plan the current run of a session was started with, for {@code config}, its recorded configuration. */
    static CagePlan recordedPlan(SessionPaths paths, CageConfig config, ProcessRunner runner) {
        try {
            return CagePlan.of(config, Json.readPlainRecord(Files.readString(paths.planFile()), CagePlan.Recorded.class), runner);
        } catch (IOException | RuntimeException e) {
            throw new CageException("cannot read the plan of session " + paths.name() + " from " + paths.planFile()
                    + ": " + e.getMessage(), "stop the session and start it again");
        }
    }

    private void checkNewSession(CageConfig config, boolean ephemeral, DesktopPort desktopPort, boolean clone) {
        if (clone && ephemeral) {
            throw new UserInputException("--clone keeps the agent's work in a copy until you apply it, and an "
                    + "ephemeral session is removed when it stops", "drop --ephemeral");
        }
        boolean desktop = config.mode() == Mode.DESKTOP;
        if (desktop != (desktopPort != null)) {
            throw new IllegalArgumentException("a desktop port is given for, and only for, a new desktop session");
        }
        if (desktop && config.network() == NetworkMode.HOST) {
            throw new UserInputException("mode: 'desktop' cannot run with network: host: the desktop's VNC server "
                    + "would listen in the host's own network, beside everything else there",
                    "use --network filtered (the default) or none; the desktop is published on the host with --port");
        }
        if (desktop && config.rootfs() != null) {
            throw new UserInputException("mode: 'desktop' needs the desktop image, not a rootfs directory",
                    "drop --rootfs (build the image with: sudo claude-cage build desktop)");
        }
        if (desktop) {
            DesktopCage.checkEnvironment(config.env());
        }
        boolean homeMounted = config.mounts().stream().map(MountSpec::target).anyMatch(SpecBuilder.CAGE_HOME::equals);
        if (homeMounted && config.persist() && !ephemeral) {
            throw new UserInputException("mounts: a mount onto " + SpecBuilder.CAGE_HOME + " conflicts with the session's "
                    + "persisted home (persist: true)", "drop that mount, or pass --ephemeral, or set persist: false");
        }
    }

    @SuppressWarnings("try") // the locks are held for the whole block
    private SessionPaths createLocked(SessionName name, FileLock storeLock, StartRequest request) {
        CageConfig config = request.config();
        boolean persistHome = config.persist() && !request.ephemeral();
        SessionPaths paths = store.paths(name, request.ephemeral());
        try (FileLock sessionLock = store.lockSession(name, storeLock)) {
            store.createFolders(paths, persistHome, config.uid(), config.gid());
            if (request.desktopPort() != null) {
                DesktopAccess.generate(request.desktopPort()).write(paths.desktopFile());
            }
            if (request.cloneWorkspace()) {
                try {
                    config = WorkspaceClone.create(config, store.roots().cloneDir(name), paths.dataDir(), runner);
                } catch (RuntimeException e) {
                    try {
                        store.delete(name, storeLock);
                    } catch (CageException cleanup) {
                        e.addSuppressed(cleanup);
                    }
                    throw e;
                }
            }
            SessionRecord record = SessionRecord.create(name, config.recordedValues(), request.command(),
                    request.ephemeral(), persistHome, clock.instant());
            store.write(starting(record, name, request));
        }
        return paths;
    }

    @SuppressWarnings("try") // the locks are held for the whole block
    private SessionPaths restartLocked(SessionName name, FileLock storeLock, StartRequest request) {
        try (FileLock sessionLock = store.lockSession(name, storeLock)) {
            SessionView view = reconciler.view(store.require(name));
            if (view.live()) {
                throw new CageException("session " + name + " is " + view.stateWord() + " already",
                        "attach to it with: claude-cage attach " + name);
            }
            checkLimit(request.maxSessions(), name);
            SessionRecord record = view.record();
            SessionPaths paths = store.paths(record);
            Janitor.Report report = janitor.removeSessionCages(name);
            if (!report.clean()) {
                throw new CageException("cannot start session " + name + ": what its last run left cannot be removed: "
                        + String.join("; ", report.failures()), "claude-cage gc retries; then start again");
            }
            store.removeRunState(paths);
            CageConfig config = SessionConfig.load(record.config());
            store.createFolders(paths, record.persist(), config.uid(), config.gid());
            store.write(starting(record, name, request));
            return paths;
        }
    }

    private SessionRecord starting(SessionRecord record, SessionName name, StartRequest request) {
        return record.starting(Janitor.newContainerId(name), ProcessIdentity.current(), probe.bootId(), clock.instant(),
                request.rows(), request.columns());
    }

    /** Fails when starting one more session would pass max_sessions; the caller holds the store lock. */
    private void checkLimit(int maxSessions, SessionName starting) {
        List<String> running = new ArrayList<>();
        for (SessionName name : store.names()) {
            if (name.equals(starting)) {
                continue;
            }
            Optional<SessionRecord> record;
            try {
                record = store.read(name);
            } catch (CageException unreadable) {
                continue;
            }
            if (record.isPresent() && reconciler.isLive(record.get())) {
                running.add(name.value());
            }
        }
        if (running.size() >= maxSessions) {
            throw new CageException("cannot start another session: max_sessions is " + maxSessions + " and "
                    + running.size() + (running.size() == 1 ? " session is" : " sessions are") + " running ("
                    + String.join(", ", running) + ")",
                    "stop one with 'claude-cage stop NAME', or raise max_sessions: set max_sessions: N in "
                            + "~/.config/claude-cage/config.yaml or /etc/claude-cage/config.yaml, "
                            + "or CLAUDE_CAGE_MAX_SESSIONS=N");
        }
    }

    /** A session created by a start that failed holds nothing worth keeping: it goes again. */
    @SuppressWarnings("try") // the locks are held for the whole block
    private void forgetFailedSession(SessionName name) {
        try (FileLock storeLock = store.lockStore(); FileLock sessionLock = store.lockSession(name, storeLock)) {
            Optional<SessionRecord> record = store.read(name);
            boolean launchedByUs = record.isPresent() && record.get().supervisor() == null
                    && ProcessIdentity.current().equals(record.get().launcher());
            if (record.isEmpty() || (reconciler.isLive(record.get()) && !launchedByUs)) {
                return;
            }
            if (janitor.removeSessionCages(name).clean()) {
                store.delete(name, storeLock);
            }
        } catch (CageException e) {
            // The start's own error matters more; gc removes the rest.
        }
    }

    // ---- stop

    /** How a stop went. */
    public record StopResult(SessionName name, String state, boolean wasRunning) {
    }

    public StopResult stop(SessionName name, Duration timeout) {
        SessionRecord record = store.require(name);
        // Whether it is live needs no list of the runtime's containers (a runtime process); only a
        // session that is not, to tell what its cage left.
        if (!reconciler.isLive(record)) {
            SessionView view = reconciler.view(record);
            if (view.stale() || view.orphaned()) {
                settle(name, null, null);
            }
            return new StopResult(name, reconciler.view(store.require(name)).stateWord(), false);
        }
        ProcessIdentity supervisor = awaitSupervisor(name, timeout.plus(Duration.ofSeconds(30)));
        String killed = null;
        if (supervisor != null) {
            if (askToStop(name, store.paths(record), timeout)) {
                if (!awaitExit(supervisor, CLEANUP_TIMEOUT)) {
                    killed = "its supervisor did not finish cleaning up within " + CLEANUP_TIMEOUT.toSeconds()
                            + "s and was killed";
                }
            } else {
                // No answer on its socket (gone with a wipe of /run, say): SIGTERM, its own orderly stop.
                ProcessHandle.of(supervisor.pid()).ifPresent(ProcessHandle::destroy);
                if (!awaitExit(supervisor, timeout.plus(Duration.ofSeconds(5)))) {
                    killed = "its supervisor did not answer and did not stop on SIGTERM within "
                            + (timeout.toSeconds() + 5) + "s; it was killed";
                }
            }
            if (killed != null) {
                ProcessHandle.of(supervisor.pid()).ifPresent(ProcessHandle::destroyForcibly);
                awaitExit(supervisor, Duration.ofSeconds(10));
            }
        }
        Optional<SessionRecord> left = store.read(name);
        if (left.isEmpty()) {
            // An ephemeral session removes itself when it stops.
            return new StopResult(name, "removed", true);
        }
        SessionView after = reconciler.view(left.get());
        if (after.stale() || after.orphaned() || killed != null) {
            settle(name, SessionStatus.STOPPED, killed);
            if (after.record().ephemeral()) {
                forgetEnded(name);
                return new StopResult(name, "removed", true);
            }
            after = reconciler.view(store.require(name));
        }
        return new StopResult(name, after.stateWord(), true);
    }

    /** Removes an ephemeral session whose supervisor could not do it itself. */
    @SuppressWarnings("try") // the locks are held for the whole block
    private void forgetEnded(SessionName name) {
        try (FileLock storeLock = store.lockStore(); FileLock sessionLock = store.lockSession(name, storeLock)) {
            Optional<SessionRecord> record = store.read(name);
            if (record.isPresent() && !reconciler.isLive(record.get())
                    && janitor.removeSessionCages(name).clean()) {
                store.delete(name, storeLock);
            }
        }
    }

    /**
     * A session whose supervisor is gone: remove what its cage left, and write down the truth
     * ({@code status}, when the caller knows better than the reconciler: a stop it asked for).
     */
    @SuppressWarnings("try") // the lock is held for the whole block
    private void settle(SessionName name, SessionStatus status, String problem) {
        try (FileLock sessionLock = store.lockSession(name)) {
            SessionRecord record = store.require(name);
            SessionView view = reconciler.view(record);
            if (view.live()) {
                return;
            }
            Janitor.Report report = janitor.removeSessionCages(name);
            store.removeRunState(store.paths(record));
            SessionRecord corrected = Reconciler.corrected(view, clock.instant());
            if (status != null) {
                corrected = corrected.ended(status, corrected.exitCode(), problem, clock.instant());
            }
            if (!report.clean()) {
                corrected = corrected.ended(corrected.status(), corrected.exitCode(),
                        "cleanup incomplete: " + String.join("; ", report.failures()), clock.instant());
            }
            store.write(corrected);
        }
    }

    /** The supervisor of a session that is still being launched, once it is up; null if it never comes. */
    private ProcessIdentity awaitSupervisor(SessionName name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            SessionRecord record = store.require(name);
            if (record.supervisor() != null && probe.isSupervisor(record.supervisor(), name)) {
                return record.supervisor();
            }
            if (!reconciler.isLive(record)) {
                return null;
            }
            sleep(50);
        }
        return null;
    }

    /** Asks the supervisor to stop the cage, and waits for its answer that the cage has ended. */
    private boolean askToStop(SessionName name, SessionPaths paths, Duration timeout) {
        SocketChannel channel;
        try {
            channel = AttachClient.connect(paths.socket(), name);
        } catch (CageException e) {
            return false;
        }
        try (channel) {
            Frames frames = new Frames(channel);
            frames.write(Frames.HELLO_STOP, Frames.seconds((int) Math.min(Integer.MAX_VALUE, timeout.toSeconds())));
            CompletableFuture<Boolean> ended = CompletableFuture.supplyAsync(() -> {
                try {
                    Frames.Frame frame;
                    while ((frame = frames.read()) != null) {
                        if (frame.type() == Frames.EXIT) {
                            return true;
                        }
                    }
                    return false;
                } catch (IOException e) {
                    return false;
                }
            });
            return ended.get(timeout.plus(CLEANUP_TIMEOUT).toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (IOException | ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Polled often: a stop waits here for a supervisor that has said the cage ended, and only exits now. */
    private static boolean awaitExit(ProcessIdentity process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(5);
        }
        return true;
    }

    // ---- destroy

    /** Stops the session if it runs, then removes its cage leftovers, record, logs and persisted home. */
    @SuppressWarnings("try") // the locks are held for the whole block
    public Janitor.Report destroy(SessionName name, Duration stopTimeout) {
        SessionView view = reconciler.view(store.require(name));
        if (view.live()) {
            stop(name, stopTimeout);
        }
        try (FileLock storeLock = store.lockStore(); FileLock sessionLock = store.lockSession(name, storeLock)) {
            // Without a record the session is gone already: an ephemeral one removes itself once stopped (above),
            // or another destroy finished first. What is left (the run folder that taking the lock made) goes below.
            if (store.exists(name) && reconciler.isLive(store.require(name))) {
                throw new CageException("session " + name + " was started again while it was being destroyed",
                        "run claude-cage destroy " + name + " again");
            }
            Janitor.Report report = janitor.removeSessionCages(name);
            if (!report.clean()) {
                throw new CageException("cannot destroy session " + name + ": " + String.join("; ", report.failures()),
                        "its record is kept; claude-cage gc or destroy retries once the cause is fixed");
            }
            store.delete(name, storeLock);
            return report;
        }
    }

    // ---- gc

    /**
     * Finds and removes what crashes left: the cages, networks, mounts and cgroups of sessions and
     * runs that no live process owns, run folders of sessions that are gone, pid files and sockets
     * of dead supervisors, ephemeral sessions that ended; and corrects records that claim a
     * supervisor that is gone.
     */
    public Janitor.Report gc() {
        store.ensureRoots();
        List<String> removed = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Set<SessionName> live = new HashSet<>();
        Janitor.Report report;
        try (FileLock storeLock = store.lockStore()) {
            List<RuntimeContainer> containers = probe.containers();
            for (SessionName name : store.names()) {
                SessionRecord record;
                try {
                    record = store.require(name);
                } catch (CageException e) {
                    failures.add("session " + name + ": " + e.getMessage());
                    live.add(name);
                    continue;
                }
                SessionView view = reconciler.view(record, containers);
                if (view.live()) {
                    live.add(name);
                    continue;
                }
                FileLock sessionLock = FileLock.tryAcquire(store.paths(record).lockFile());
                if (sessionLock == null) {
                    // Another command is working on it: leave it alone this time.
                    live.add(name);
                    continue;
                }
                try (sessionLock) {
                    if (view.stale()) {
                        store.write(Reconciler.corrected(view, clock.instant()));
                        removed.add("record of session " + name + " corrected to " + view.stateWord());
                    }
                    removeStaleRunFiles(store.paths(record), removed);
                    if (record.ephemeral()) {
                        store.delete(name, storeLock);
                        removed.add("ephemeral session " + name);
                    }
                }
            }
            for (SessionName stray : store.strayRunFolders()) {
                FileLock sessionLock = FileLock.tryAcquire(store.paths(stray, false).lockFile());
                if (sessionLock == null) {
                    live.add(stray);
                    continue;
                }
                try (sessionLock) {
                    store.delete(stray, storeLock);
                    removed.add("folder of removed session " + stray);
                }
            }
            report = janitor.collect(live);
            removeUnusedJars(removed, failures);
        }
        return new Janitor.Report(removed, failures, List.of()).plus(report);
    }

    /** Pinned supervisor jars that no running process uses (and that no start is about to use). */
    private void removeUnusedJars(List<String> removed, List<String> failures) {
        java.nio.file.Path dir = store.roots().supervisorJars();
        if (!java.nio.file.Files.isDirectory(dir)) {
            return;
        }
        Set<String> inUse = new HashSet<>();
        ProcessHandle.allProcesses().forEach(process -> inUse.addAll(ProcessIdentity.commandLine(process.pid())));
        try (var jars = java.nio.file.Files.list(dir)) {
            for (java.nio.file.Path jar : jars.toList()) {
                java.time.Instant modified = java.nio.file.Files.getLastModifiedTime(jar).toInstant();
                // A jar's archives and class lists go with it.
                java.nio.file.Path itsJar = dir.resolve(SupervisorArchive.jarNameOf(jar.getFileName().toString()));
                if (!inUse.contains(itsJar.toString()) && modified.isBefore(clock.instant().minus(UNUSED_JAR_AGE))) {
                    java.nio.file.Files.delete(jar);
                    removed.add("unused supervisor " + (jar.equals(itsJar) ? "jar " : "file ") + jar);
                }
            }
        } catch (java.io.IOException e) {
            failures.add("supervisor jars in " + dir + ": " + e.getMessage());
        }
    }

    private void removeStaleRunFiles(SessionPaths paths, List<String> removed) {
        for (var file : List.of(paths.pidFile(), paths.socket(), paths.keyFile())) {
            if (java.nio.file.Files.exists(file)) {
                removed.add("stale " + file);
            }
        }
        store.removeRunState(paths);
    }

    // ---- shell and verify

    /**
     * A running session's cage, as {@code shell} and {@code verify --session} reach into it.
     *
     * @param persistedHome whether the cage's home is the session's persisted folder, writable
     */
    /** @param pid the cage's init process on the host (rootless, runtime commands enter its user namespace) */
    /** @param plan what the session's run was started with (its image, layers, runtime, policy, id maps) */
    public record LiveCage(SessionName name, String containerId, CageConfig config, CagePlan plan, RuntimeKind runtime,
                           boolean persistedHome, long pid) {
    }

    public LiveCage live(SessionName name) {
        SessionView view = view(name);
        if (view.status() != SessionStatus.RUNNING || view.container() == null || !view.container().running()) {
            throw new CageException("session " + name + " is " + view.stateWord() + ", not running",
                    "start it with: claude-cage start --name " + name);
        }
        SessionRecord record = view.record();
        CageConfig config = SessionConfig.load(record.config());
        return new LiveCage(name, record.containerId(), config, recordedPlan(store.paths(record), config, runner),
                RuntimeKind.fromConfig(view.container().runtime()), record.persist() && !record.ephemeral(),
                view.container().pid());
    }

    /**
     * The runtime command that starts {@code command} in a running cage, as its user and behind its
     * walls (the runtime takes the process settings of the cage's own spec), with {@code env} added.
     */
    public List<String> execCommand(LiveCage cage, List<String> env, List<String> command, boolean terminal) {
        return execCommand(statePaths, probe, cage, env, command, terminal);
    }

    /** {@link #execCommand(LiveCage, List, List, boolean)} for the supervisor, which has no {@code Sessions}. */
    static List<String> execCommand(StatePaths statePaths, HostProbe probe, LiveCage cage, List<String> env,
                                    List<String> command, boolean terminal) {
        if (cage.runtime() == RuntimeKind.RUNSC) {
            // Seen with runsc 20221219: /proc/self/status of an exec'd process says "Seccomp: 0".
            throw new CageException("session " + cage.name() + " runs under runsc, whose exec would start the process "
                    + "without the cage's seccomp filter (gVisor loads the spec's filter into the cage's first process only)",
                    "work in the session's own terminal: claude-cage attach " + cage.name());
        }
        List<String> exec = new ArrayList<>(List.of(cage.runtime().binaryName(), "--root",
                statePaths.runtimeState().resolve(cage.runtime().configName()).toString(), "exec"));
        if (terminal) {
            exec.add("--tty");
        }
        env.forEach(variable -> exec.addAll(List.of("--env", variable)));
        exec.addAll(List.of("--user", cage.config().uid() + ":" + cage.config().gid(), cage.containerId()));
        exec.addAll(command);
        return probe.control().wrapFor(cage.pid(), exec);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted");
        }
    }
}
