package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.claudecode.ClaudeCodeStart;
import dev.claudecage.claudecode.UserClaudeSetup;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.Mode;
import dev.claudecage.desktop.DesktopAccess;
import dev.claudecage.desktop.DesktopCage;
import dev.claudecage.desktop.DesktopPage;
import dev.claudecage.desktop.DesktopPort;
import dev.claudecage.desktop.DesktopRelay;
import dev.claudecage.desktop.DesktopServer;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.Host;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.host.Netns;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.AuditReportPage;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.Stdio;
import dev.claudecage.runtime.CageInstance;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.CageTrail;
import dev.claudecage.runtime.RunOutcome;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.workspace.WorkspaceClone;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One session's supervisor: a process of its own, outliving the command that started it, that
 * owns the session's {@link CageInstance} from preparation to removal. It holds the cage's
 * terminal (a pty whose slave is the runtime's stdio), keeps the output in the session log,
 * relays it to attach clients over its socket, records how the cage ended, and on the cage's end,
 * a stop request or SIGTERM takes everything down, keeping only the persisted home and the logs.
 */
final class Supervisor {

    static final Duration DEFAULT_GRACE = Duration.ofSeconds(10);
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final int REPLAY_BYTES = 64 * 1024;
    private static final int DEFAULT_ROWS = 24;
    private static final int DEFAULT_COLUMNS = 80;
    /** The source of a --clone session's commit lines in its trail. */
    static final String COMMITS_SOURCE = AuditReportPage.COMMITS_SOURCE;
    /** The most commits the trail lists: the copy is the agent's to fill. */
    private static final int MAX_COMMITS = 200;

    private final SessionStore store;
    private final SessionName name;
    /** The run this supervisor was launched for, and its configuration, read while the start recorded the plan. */
    private final String startedAt;
    private final Supplier<CageConfig> recordedConfig;
    private final StatePaths statePaths;
    private final ProcessRunner runner;
    private final HostProbe probe;
    private final PrintStream log;
    private final Object lifecycle = new Object();
    private final CountDownLatch finished = new CountDownLatch(1);
    /** Everything the run made, undone in reverse when it ends: the cage first, the session log last. */
    private final Teardown teardown;

    private SessionPaths paths;
    private volatile SessionRecord record;
    private CageInstance instance;
    private volatile Process runtime;
    private Pty pty;
    private SessionLog output;
    private AttachServer server;
    private DesktopServer desktopServer;
    private Thread pump;
    private volatile boolean draining;
    private volatile boolean stopRequested;
    private volatile boolean sawRunning;
    private int rows;
    private int columns;
    /** How the run ended, for the attach clients, once it has. */
    private int endExitCode = -1;
    private String endState;

    Supervisor(SessionStore store, SessionName name, String startedAt, Supplier<CageConfig> config, StatePaths statePaths,
               ProcessRunner runner, PrintStream log) {
        this.store = store;
        this.name = name;
        this.startedAt = startedAt;
        this.recordedConfig = config;
        this.statePaths = statePaths;
        this.runner = runner;
        this.probe = new HostProbe(statePaths, runner);
        this.log = log;
        this.teardown = new Teardown("cleanup of session " + name, null);
    }

    /** Runs the session to its end; returns the supervisor's exit code. */
    int run() {
        record = store.require(name);
        paths = store.paths(record);
        if (record.status() != SessionStatus.STARTING || record.supervisor() != null
                || !startedAt.equals(record.startedAt())) {
            log("session " + name + " is " + record.status().word() + " and has a supervisor already, or is another run"
                    + " than this supervisor's: not starting");
            return 2;
        }
        ProcessIdentity self = ProcessIdentity.current();
        update(record.supervisedBy(self));
        writePidFile(self.pid());
        log("supervising session " + name + " (container " + record.containerId() + ")");
        Thread onSignal = new Thread(this::onSignal, "supervisor-signal");
        Runtime.getRuntime().addShutdownHook(onSignal);
        SessionStatus status = SessionStatus.FAILED;
        Integer exitCode = null;
        String problem = null;
        try {
            RunOutcome outcome = supervise();
            if (outcome == null) {
                status = SessionStatus.STOPPED;
            } else {
                exitCode = outcome.exitCode();
                status = stopRequested ? SessionStatus.STOPPED : SessionStatus.EXITED;
                if (!sawRunning && outcome.problem() != null) {
                    status = SessionStatus.FAILED;
                    problem = outcome.problem();
                }
            }
        } catch (CageException e) {
            problem = e.getMessage() + (e.hint() == null ? "" : " (hint: " + e.hint() + ")");
            log("the cage failed: " + problem);
        } catch (RuntimeException e) {
            problem = "internal error: " + e;
            e.printStackTrace(log);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem = "interrupted";
        } catch (Error e) {
            problem = "internal error: " + e;
            e.printStackTrace(log);
        } finally {
            String cleanupProblem;
            try {
                cleanupProblem = takeDown(status, exitCode);
            } catch (RuntimeException | Error e) {
                // Whatever broke, the record must still say how the session ended.
                cleanupProblem = "cleanup failed: " + e;
                e.printStackTrace(log);
            }
            if (cleanupProblem != null) {
                problem = problem == null ? cleanupProblem : problem + "; " + cleanupProblem;
            }
            finish(status, exitCode, problem);
        }
        return 0;
    }

    private RunOutcome supervise() throws InterruptedException {
        CageConfig config = UserClaudeSetup.addTo(recordedConfig.get(),
                record.persist() && !record.ephemeral() ? paths.homeDir() : null, problem -> log("warning: " + problem));
        CagePlan plan = Sessions.recordedPlan(paths, config, runner);
        DesktopAccess desktop = config.mode() == Mode.DESKTOP ? publishDesktop() : null;
        ApiCredential key = ApiKeyHandOff.take(paths.keyFile());
        try {
            output = teardown.push("close the session log",
                    new SessionLog(paths.outputLog(), SessionLog.DEFAULT_LIMIT, Clock.systemUTC()));
        } catch (IOException e) {
            throw new CageException("cannot open the session log " + paths.outputLog() + ": " + e.getMessage());
        }
        OutputRing ring = new OutputRing(REPLAY_BYTES);
        pty = teardown.push("close the cage's terminal", Pty.open());
        rows = record.rows() > 0 ? record.rows() : DEFAULT_ROWS;
        columns = record.columns() > 0 ? record.columns() : DEFAULT_COLUMNS;
        pty.resize(rows, columns);
        server = new AttachServer(paths.socket(), ring, new Control(), log);
        // After the cage is gone: a client told "exited" finds nothing of it left.
        teardown.push("end the attach server", () -> {
            server.finish(endExitCode, endState);
            server.close();
        });
        try {
            server.start();
        } catch (IOException e) {
            throw new CageException("cannot listen on " + paths.socket() + ": " + e.getMessage());
        }
        pty.becomeStdio();
        String id = record.containerId();
        CageInstance.SpecAdjustment home = record.persist() && !record.ephemeral()
                ? (spec, networking) -> PersistentHome.bind(spec, paths.homeDir())
                : CageInstance.SpecAdjustment.NONE;
        CageInstance.SpecAdjustment homeAndMode = desktop == null ? home
                : (spec, networking) -> DesktopCage.adjust(home.adjust(spec, networking), desktop);
        Path networkState = statePaths.networkState(id);
        CageInstance.SpecAdjustment adjustment = (spec, networking) -> ClaudeCodeStart.prepare(
                homeAndMode.adjust(spec, networking), networking, networkState, problem -> log("warning: " + problem));
        CageInstance prepared = teardown.push("remove the cage", CageInstance.prepare(plan, id, record.command(), true,
                new CageNetworking.Options(key, paths.auditLog(), networkState, statePaths.networkLock(),
                        record.placeholder()), paths.auditLog(),
                statePaths, runner, adjustment));
        teardown.push("drain the cage's terminal", this::drain);
        teardown.push("stop the cage", () -> prepared.stop(Duration.ofSeconds(5)));
        SessionPolicy policy = SessionPolicy.of(id, Instant.now().toString(), prepared.policy(
                record.persist() && !record.ephemeral() ? List.of(paths.homeDir() + ":" + SpecBuilder.CAGE_HOME + ":rw")
                        : List.of()));
        policy.write(paths.policyFile());
        prepared.recordStart(policy.sha256());
        synchronized (lifecycle) {
            instance = prepared;
            if (stopRequested) {
                log("stopped before the cage started");
                return null;
            }
            runtime = instance.start(Stdio.all(ProcessBuilder.Redirect.INHERIT));
        }
        pump = DaemonThreads.start("pty-pump", () -> pump(ring));
        RuntimeKind runtimeKind = plan.runtime().kind();
        if (awaitRunning(runtimeKind, id)) {
            sawRunning = true;
            synchronized (lifecycle) {
                if (!stopRequested) {
                    update(record.withStatus(SessionStatus.RUNNING));
                }
            }
            log("cage " + id + " is running (runtime pid " + runtime.pid() + ")");
            if (desktop != null) {
                serveDesktop(runtimeKind, id, desktop);
            }
            if (config.healthcheck() && plan.imageId() != null) {
                // Pushed after the cage: the checks end before the cage is stopped.
                startHealthcheck(runtimeKind, id, config, plan)
                        .ifPresent(health -> teardown.push("stop the healthcheck", health));
            }
            if (!config.checkpointInterval().isZero()) {
                WorkspaceClone.find(name.value(), paths.dataDir(), runner).ifPresent(clone -> teardown.push(
                        "stop the checkpoints", CheckpointTimer.start(clone.checkpoints(), config.checkpointInterval(),
                                this::log)));
            }
        }
        RunOutcome outcome = instance.awaitExit();
        instance.ended(new CageTrail.Ending(outcome.exitCode(), false, outcome.problem()));
        log("cage " + id + " ended with exit code " + outcome.exitCode()
                + (outcome.problem() == null ? "" : ": " + outcome.problem()));
        return outcome;
    }

    /**
     * Binds the desktop's host address before anything else is made, so that a port in use (or
     * noVNC missing on this host) fails the start at once; connections wait in the backlog until
     * the cage runs.
     */
    private DesktopAccess publishDesktop() {
        DesktopAccess desktop = DesktopAccess.read(paths.desktopFile()).orElseThrow(() -> new CageException(
                "desktop session " + name + " has no access file " + paths.desktopFile(),
                "destroy the session and start it again"));
        DesktopPort port = desktop.mapping();
        desktopServer = teardown.push("close the desktop's server", DesktopServer.bind(port.listenAddress(),
                DesktopPage.novnc()));
        log("desktop published on " + port.format() + (port.loopbackOnly() ? ""
                : " (beyond this host's loopback: anyone who can reach it and knows the password can use the desktop)"));
        return desktop;
    }

    /**
     * Serves the desktop's page, and connects its WebSockets to the VNC server on the cage's own
     * loopback: through its network namespace as root, through a relay in it rootless.
     */
    private void serveDesktop(RuntimeKind runtimeKind, String id, DesktopAccess desktop) {
        long cagePid = probe.container(runtimeKind, id).map(RuntimeContainer::pid).orElse(0L);
        if (cagePid <= 0) {
            throw new CageException("cage " + id + " runs but the runtime reports no pid for it: cannot publish its desktop");
        }
        int cagePort = desktop.mapping().cagePort();
        DesktopServer.Inside inside;
        if (Host.effectiveUid() != 0) {
            CageConfig config = SessionConfig.load(record.config());
            DesktopRelay relay = teardown.push("stop the desktop's relay", DesktopRelay.start(probe.control(), cagePid,
                    config.uid(), config.gid(), paths.desktopSocket(), cagePort, runner));
            inside = DesktopServer.throughRelay(relay.socket());
        } else {
            Netns cageNetwork = teardown.push("let go of the cage's network namespace",
                    Netns.open(Path.of("/proc", Long.toString(cagePid), "ns", "net")));
            inside = DesktopServer.throughNamespace(cageNetwork, cagePort);
        }
        // Before the cage's network goes: the desktop's connections hold the cage's namespace open.
        teardown.push("stop serving the desktop", desktopServer);
        desktopServer.start(inside, this::log);
    }

    /**
     * Waits until the runtime reports the container running (its command was executed), or has
     * exited. Each look reads the runtime's state file (no process), so it looks often: the start
     * command waits for this.
     */
    private boolean awaitRunning(RuntimeKind runtimeKind, String id) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!runtime.isAlive()) {
                return false;
            }
            if (probe.container(runtimeKind, id).map(RuntimeContainer::running).orElse(false)) {
                return runtime.isAlive() || probe.container(runtimeKind, id).isPresent();
            }
            Thread.sleep(5);
        }
        throw new CageException("cage " + id + " did not reach 'running' within " + START_TIMEOUT.toSeconds() + "s");
    }

    /** Copies the cage's terminal output into the log, the replay buffer and the attached clients. */
    private void pump(OutputRing ring) {
        byte[] buffer = new byte[16 * 1024];
        boolean logFailed = false;
        while (true) {
            byte[] data = pty.read(buffer, 100);
            if (data == null) {
                return;
            }
            if (data.length == 0) {
                if (draining) {
                    return;
                }
                continue;
            }
            try {
                output.write(data);
            } catch (IOException e) {
                if (!logFailed) {
                    log("cannot write the session log: " + e.getMessage());
                    logFailed = true;
                }
            }
            ring.add(data);
            server.broadcast(data);
        }
    }

    /**
     * The image's HEALTHCHECK, run through the runtime's exec in the cage as its user (as {@code shell}
     * runs a command); empty when the image has none.
     */
    private Optional<HealthMonitor> startHealthcheck(RuntimeKind runtimeKind, String id, CageConfig config, CagePlan plan) {
        var image = ImageStore.openDefault().image(Digest.parse(plan.imageId()));
        var container = probe.container(runtimeKind, id);
        if (image.isEmpty() || container.isEmpty()) {
            return Optional.empty();
        }
        Sessions.LiveCage cage = new Sessions.LiveCage(name, id, config, plan,
                RuntimeKind.fromConfig(container.get().runtime()), false, container.get().pid());
        return HealthMonitor.start(image.get().config().config(),
                command -> Sessions.execCommand(statePaths, probe, cage, List.of(), command, false),
                paths.healthFile(), runner, this::log);
    }

    /** Stops everything that still runs and removes the cage; returns what went wrong, or null. */
    private String takeDown(SessionStatus status, Integer exitCode) {
        synchronized (lifecycle) {
            stopRequested = true;
        }
        endExitCode = exitCode == null ? -1 : exitCode;
        endState = stateWord(status, exitCode);
        CageInstance ran = instance;
        if (ran != null && ran.trail() != null) {
            SessionVerifications.read(paths).forEach(ran.trail()::record);
            if (WorkspaceClone.isClone(paths.dataDir())) {
                recordCommits(ran.trail());
            }
        }
        try {
            teardown.close();
            return null;
        } catch (CageException e) {
            log(e.getMessage());
            return e.getMessage();
        }
    }

    /**
     * A --clone session's commits in its copy, oldest first, as trail lines (source {@value #COMMITS_SOURCE}):
     * what the agent committed, beside what it changed file by file.
     */
    private void recordCommits(AuditLog trail) {
        try {
            List<String> commits = new ArrayList<>(WorkspaceClone.open(name.value(), paths.dataDir(), runner)
                    .commitsSinceCopy(MAX_COMMITS + 1));
            if (commits.size() > MAX_COMMITS) {
                trail.record(AuditEvent.about(Instant.now(), COMMITS_SOURCE, "capped", "more than "
                        + MAX_COMMITS + " commits in the copy: the newest " + MAX_COMMITS + " follow"));
                commits = commits.subList(0, MAX_COMMITS);
            }
            Collections.reverse(commits);
            commits.forEach(commit -> trail.record(AuditEvent.about(Instant.now(), COMMITS_SOURCE, "committed",
                    "commit " + commit)));
        } catch (CageException e) {
            trail.record(AuditEvent.about(Instant.now(), COMMITS_SOURCE, "unreadable",
                    "the copy's commits could not be read: " + e.getMessage()));
        }
    }

    /** Lets the pump copy what the stopped cage printed last, then end. */
    private void drain() throws InterruptedException {
        draining = true;
        if (pump != null) {
            pty.wakeReader();
            pump.join(5000);
        }
    }

    private void finish(SessionStatus status, Integer exitCode, String problem) {
        try {
            update(record.ended(status, exitCode, problem, Instant.now()));
            store.removeRunState(paths);
            log("session " + name + " is " + stateWord(status, exitCode) + (problem == null ? "" : ": " + problem));
            // An ephemeral session that never ran stays for the start command to read why, and remove.
            if (record.ephemeral() && status != SessionStatus.FAILED) {
                removeEphemeral();
            }
        } catch (RuntimeException | Error e) {
            log("recording the end of the session: " + e);
        } finally {
            finished.countDown();
        }
    }

    /** An ephemeral session leaves nothing behind when it ends. */
    @SuppressWarnings("try") // the locks are held for the whole block
    private void removeEphemeral() {
        try (FileLock storeLock = store.lockStore(); FileLock sessionLock = store.lockSession(name, storeLock)) {
            store.delete(name, storeLock);
            log("ephemeral session " + name + " removed");
        }
    }

    static String stateWord(SessionStatus status, Integer exitCode) {
        return status == SessionStatus.EXITED && exitCode != null ? "exited(" + exitCode + ")" : status.word();
    }

    /** SIGTERM (or SIGINT, SIGHUP): stop the cage with the default grace and wait for the cleanup. */
    private void onSignal() {
        if (finished.getCount() == 0) {
            return;
        }
        log("signalled: stopping");
        requestStop(DEFAULT_GRACE);
        try {
            finished.await(DEFAULT_GRACE.toSeconds() * 2 + 30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void requestStop(Duration grace) {
        CageInstance running;
        synchronized (lifecycle) {
            if (stopRequested) {
                return;
            }
            stopRequested = true;
            running = instance;
            if (running != null) {
                running.stoppedByUser();
            }
            if (record.status() == SessionStatus.RUNNING || record.status() == SessionStatus.STARTING) {
                update(record.withStatus(SessionStatus.STOPPING));
            }
        }
        log("stop requested (grace " + grace.toSeconds() + "s)");
        if (running != null) {
            DaemonThreads.start("supervisor-stop", () -> {
                try {
                    running.stop(grace);
                } catch (RuntimeException e) {
                    log("stopping the cage: " + e.getMessage());
                }
            });
        }
    }

    private synchronized void update(SessionRecord next) {
        record = next;
        store.write(next);
    }

    private void writePidFile(long pid) {
        try {
            Directories.writePrivateFile(paths.pidFile(), pid + "\n");
        } catch (IOException e) {
            throw new CageException("cannot write " + paths.pidFile() + ": " + e.getMessage());
        }
    }

    private void log(String message) {
        log.println(Instant.now() + " " + message);
        log.flush();
    }

    /** What attach clients and stop requests may do. */
    private final class Control implements AttachServer.Controller {
        @Override
        public void input(byte[] data) {
            pty.write(data);
        }

        @Override
        public void resize(int newRows, int newColumns) {
            if (newRows <= 0 || newColumns <= 0) {
                return;
            }
            synchronized (Supervisor.this) {
                if (newRows == rows && newColumns == columns) {
                    return;
                }
                rows = newRows;
                columns = newColumns;
            }
            pty.resize(newRows, newColumns);
            Process process = runtime;
            if (process != null && process.isAlive()) {
                // The runtime copies the size of its terminal (our slave) into the cage's on SIGWINCH.
                LinuxSyscalls.get().kill((int) process.pid(), LinuxSyscalls.SIGWINCH);
            }
        }

        @Override
        public void stop(Duration grace) {
            requestStop(grace);
        }
    }
}
