package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.image.store.StopSignals;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountSpec;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.IdmappedMount;
import dev.claudecage.host.IdBlock;
import dev.claudecage.host.Mounter;
import dev.claudecage.host.Mounts;
import dev.claudecage.identity.IdPool;
import dev.claudecage.identity.IdShifts;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.WorkspaceWall;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.Stdio;
import dev.claudecage.rootless.RootlessHost;
import dev.claudecage.rootless.UserNamespace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One cage from preparation to removal: its network (for filtered: namespace, firewalls, proxy,
 * gateway, DNS stub), its bundle and root, and the runtime process that runs it. {@code run}
 * drives one on the user's terminal, {@code verify} on pipes, a session's supervisor on a pty.
 * Rootless, the cage gets its own user namespace first ({@link UserNamespace}), in which its root
 * is mounted and the runtime runs; the cage's user is the invoking user there, so its mounts need
 * no shifting.
 * {@link #close()} takes everything down, on every path.
 */
public final class CageInstance implements AutoCloseable {

    private final CagePlan plan;
    private final String id;
    private final Teardown teardown;
    private UserNamespace userNamespace;
    private CageNetworking networking;
    private WorkspaceWall wall = WorkspaceWall.NONE;
    private List<String> volumes = List.of();
    private CageIdentity identity;
    private IdShifts shifts;
    private Cage cage;
    private Process runtimeProcess;
    private AuditLog trail;
    /** How the cage ended, when its owner said; else it is read from the runtime's process at the end. */
    private volatile CageTrail.Ending ending;
    private volatile boolean stoppedByUser;
    /** The writable folders' files as they were before the cage started; filled by {@link #beforeWalk}. */
    private final Map<MountSpec, MountChanges.Snapshot> before = new LinkedHashMap<>();
    /** The walk that fills {@link #before}, beside the preparation; null when the cage keeps no trail. */
    private Thread beforeWalk;

    private CageInstance(CagePlan plan, String id) {
        this.plan = plan;
        this.id = id;
        this.teardown = new Teardown("cleanup of cage " + id, Teardown.GC_REMOVES_THE_REST);
    }

    /**
     * Prepares a cage for {@code command} under {@code id}; nothing runs yet.
     *
     * @param trailFile where the cage's evidence trail goes, whatever its network mode: opened here, with
     *                  {@link #recordStart} and how it ended as its cage's first and last lines; null for a
     *                  cage that keeps none of its own (verify's, whose filtered network logs to its state)
     * @param adjust a last change to the spec, knowing the network (verify adds its fixtures;
     *               everyone else passes {@link SpecAdjustment#NONE})
     */
    public static CageInstance prepare(CagePlan plan, String id, List<String> command, boolean terminal,
                                       CageNetworking.Options networkOptions, Path trailFile, StatePaths paths,
                                       ProcessRunner runner, SpecAdjustment adjust) {
        return prepare(plan, id, command, terminal, networkOptions, trailFile, paths, runner, adjust, Mounts.SYSTEM_CALLS);
    }

    /** As above, its root mounted and unmounted by {@code mounts} (a test's records them). */
    static CageInstance prepare(CagePlan plan, String id, List<String> command, boolean terminal,
                                CageNetworking.Options networkOptions, Path trailFile, StatePaths paths,
                                ProcessRunner runner, SpecAdjustment adjust, Mounter mounts) {
        CageInstance instance = new CageInstance(plan, id);
        Teardown teardown = instance.teardown;
        try {
            // First: nothing in a folder another cage writes may be looked at or made before.
            if (WorkspaceClaims.claim(paths, id, plan.config().mounts())) {
                // Once the cage is prepared, its run folder holds the claim and goes with it (or stays,
                // claim and all, while its container may still run).
                teardown.push("release the claim on its workspace", () -> {
                    if (instance.cage == null) {
                        WorkspaceClaims.release(paths, id);
                    }
                });
            }
            CageNetworking.Options network = networkOptions;
            if (trailFile != null) {
                // After the claim, as it may lie in the workspace; closed last, after the network's last lines.
                instance.trail = teardown.push("close the evidence trail",
                        CageNetworking.openAuditLog(trailFile, plan.config()));
                teardown.push("record how the cage ended", () -> {
                    instance.recordMountChanges();
                    instance.trail.record(CageTrail.ended(Instant.now(), id, instance.ending()));
                });
                network = networkOptions.withTrail(instance.trail);
                instance.snapshotWritableMounts();
            }
            RootlessHost rootless = plan.rootless();
            List<Path> layers = plan.rootfs();
            if (rootless != null) {
                instance.userNamespace = teardown.push("end its user namespace", UserNamespace.create(rootless.uids(),
                        rootless.gids(), plan.config().network() == NetworkMode.FILTERED, runner));
            } else {
                layers = instance.takeOwnIds(layers, paths, runner);
            }
            CageConfig config = plan.config();
            HostIds cageUser = instance.identity != null ? instance.identity.user(config)
                    : new HostIds(config.uid(), config.gid());
            NetworkAttachment attachment = switch (config.network()) {
                case NONE -> NetworkAttachment.none();
                case HOST -> {
                    System.err.println("claude-cage: warning: network 'host' gives cage " + id
                            + " the host's whole network, unfiltered and unlogged");
                    yield NetworkAttachment.host();
                }
                case FILTERED -> {
                    // Under runsc the network namespace stays the host's user namespace's: runsc 20221219 cannot
                    // join a user namespace by its path (setns answers EINVAL to a process with threads), and its
                    // sandbox, in a user namespace of its own, could not mount its /proc beside a network namespace
                    // of the cage's ("error mounting proc: operation not permitted"). runsc makes the cage's user
                    // namespace itself, from the spec's maps, for its file server alone.
                    instance.networking = teardown.push("take down its network", rootless == null
                            ? CageNetworking.start(id, config, cageUser, instance.identity == null
                            || plan.runtime().kind() == RuntimeKind.RUNSC ? 0 : instance.identity.holdNamespaces(),
                            network, runner)
                            : CageNetworking.startRootless(config, network, instance.userNamespace, runner));
                    yield instance.networking.attachment();
                }
            };
            ProtectedPathScan.Result wall = ProtectedPathScan.scan(config);
            instance.wall = wall.wall();
            IdBlock ids = instance.identity == null ? null : instance.identity.block();
            Spec spec = plan.spec(id, command, terminal, attachment, wall.wall(), ids);
            instance.volumes = imageVolumes(spec, plan.image().volumes());
            if (rootless == null) {
                spec = teardown.push("remove its shifted mounts",
                        WorkspaceOwnership.stage(config, paths.stagedMounts(id), ids, instance.shifts)).applyTo(spec);
            }
            // Undone before the shifted mounts, whose removal takes the staging folder they share.
            teardown.push("unmount its idmapped mounts", () -> {
                if (instance.identity != null) {
                    instance.identity.unmount();
                }
            });
            spec = adjust.adjust(spec, instance.networking);
            // Last, so that they fit whatever the adjustment changed (a control cage's namespaces, the home).
            spec = instance.identity == null ? CageIdentity.withoutMarks(spec) : instance.identity.stage(spec, instance.shifts);
            if (instance.identity != null && plan.runtime().kind() == RuntimeKind.RUNSC) {
                spec = instance.identity.stageForTheFileServer(spec);
            }
            if (rootless != null) {
                spec = rootless.adapt(spec);
            }
            instance.endShifts();
            // The launcher's placeholders are the first writes into the folders: the snapshot comes before them.
            instance.awaitSnapshot();
            // Its placeholders first, then its run folder, and the claim on its workspace with it.
            instance.cage = teardown.push("remove the cage", rootless == null
                    ? Cage.prepare(id, layers, spec, wall.placeholders(), paths, plan.runtime(), runner,
                    CommandScope.HOST, ids, mounts)
                    : Cage.prepare(id, layers, spec, wall.placeholders(), paths,
                    plan.runtime().rootlessIn(instance.userNamespace), runner, instance.userNamespace, null, mounts));
            if (instance.identity != null) {
                instance.identity.detachLayers();
            }
            return instance;
        } catch (RuntimeException e) {
            throw Teardown.closeAfter(instance, e);
        }
    }

    /**
     * Gives a root-mode cage host ids of its own, when the plan has a pool, with the shifting
     * namespaces its mounts need; returns the root's layers, idmapped into the cage's
     * ids where it has them. A host that cannot idmap the layers, or has no pool, runs the cage with
     * the host's ids, as before cages had their own, and says so: never silently.
     */
    private List<Path> takeOwnIds(List<Path> layers, StatePaths paths, ProcessRunner runner) {
        CageConfig config = plan.config();
        IdPool pool = plan.ids();
        // Its block goes back only once its container is gone: until then, gc frees it with the cage.
        teardown.push("give back its own ids", () -> {
            if (identity != null) {
                identity.close(cage == null || cage.containerRemoved());
            }
        });
        teardown.push("end its shifting namespaces", this::endShifts);
        if (pool != null && pool.available()) {
            Cage.requireLayers(layers);
            identity = CageIdentity.allocate(id, pool, paths, runner);
            shifts = new IdShifts();
            try {
                return identity.stageLayers(layers, shifts);
            } catch (IdmappedMount.Unsupported e) {
                identity.close();
                identity = null;
                endShifts();
                warnSharedIds(e.getMessage());
            }
        } else if (pool != null) {
            warnSharedIds(pool.missing());
        }
        shifts = new IdShifts();
        return layers;
    }

    private void warnSharedIds(String missing) {
        CageConfig config = plan.config();
        System.err.println("claude-cage: warning: cage " + id + " runs as host uid " + config.uid() + " and gid "
                + config.gid() + ", which any host account of that id shares, and every other such cage: that account "
                + "can trace it and read its environment (" + missing + "); claude-cage doctor says more");
    }

    /** Closes the shifting namespaces: the mounts made with them keep what they need. */
    private void endShifts() {
        if (shifts != null) {
            shifts.close();
            shifts = null;
        }
    }

    public String id() {
        return id;
    }

    /** The cage's own host ids, or null when it shares the host's (rootless, or where the host cannot). */
    public IdBlock ownIds() {
        return identity == null ? null : identity.block();
    }

    /** The image's VOLUMEs that got a tmpfs of their own, as tmpfs:PATH (VOLUME), for the session's record. */
    public List<String> volumeMounts() {
        return volumes.stream().map(path -> "tmpfs:" + path + " (VOLUME)").toList();
    }

    private static List<String> imageVolumes(Spec spec, List<String> declared) {
        List<String> paths = declared.stream().map(volume -> Path.of("/").resolve(volume).normalize().toString()).toList();
        return spec.mounts().stream().filter(mount -> mount.type().equals("tmpfs") && paths.contains(mount.destination()))
                .map(Spec.Mount::destination).distinct().toList();
    }

    public CagePlan plan() {
        return plan;
    }

    /**
     * What the cage sees mounted from the host, as HOST:CAGE:ro|rw: the configured mounts and the
     * workspace wall's guards, each guard marked (protected) or (pinned).
     */
    public List<String> hostMounts() {
        List<String> mounts = new ArrayList<>(plan.config().mounts().stream().map(MountSpec::format).toList());
        for (WorkspaceWall.Guard guard : wall.guards()) {
            mounts.add(guard.source() + ":" + guard.destination() + (guard.readOnly() ? ":ro (protected)" : ":rw (pinned)"));
        }
        return mounts;
    }

    /**
     * The policy this cage runs under, with every mount it sees from the host.
     *
     * @param moreMounts what its owner binds beyond the plan (a session's persistent home), as HOST:CAGE:rw
     */
    public CagePolicy policy(List<String> moreMounts) {
        List<String> mounts = new ArrayList<>(hostMounts());
        mounts.addAll(volumeMounts());
        mounts.addAll(moreMounts);
        return CagePolicy.of(plan.config(), plan.imageId(), mounts);
    }

    /** A last change to a cage's spec before it is written, with the cage's network at hand. */
    @FunctionalInterface
    public interface SpecAdjustment {
        SpecAdjustment NONE = (spec, networking) -> spec;

        /** @param networking the cage's network services, or null unless filtered */
        Spec adjust(Spec spec, CageNetworking networking);
    }

    /** The cage's evidence trail, or null when it was prepared without one. */
    public AuditLog trail() {
        return trail;
    }

    /**
     * Writes the trail's first line for this cage: its image and network mode, and the hash of the policy
     * record it runs under.
     *
     * @param policySha256 the SHA-256 of the policy record ({@link #policy}), which a session keeps too
     */
    public void recordStart(String policySha256) {
        if (trail != null) {
            CageTrail.recordStart(trail, id, plan, policySha256);
        }
    }

    /** How the cage ended, written as the trail's last line when it is closed. */
    public void ended(CageTrail.Ending how) {
        ending = how;
    }

    /**
     * Each writable mount's files before the cage runs (a folder's, or a file mounted on its own), to tell what
     * it changed when it has ended: walked on
     * a thread of its own while the cage is prepared (a repository's workspace costs tens of milliseconds), and
     * waited for ({@link #awaitSnapshot}) before anything is written there.
     */
    private void snapshotWritableMounts() {
        beforeWalk = DaemonThreads.start("snapshot-writable-folders", () -> {
            for (MountSpec mount : plan.config().mounts()) {
                if (mount.readOnly()) {
                    continue;
                }
                boolean folder = Files.isDirectory(mount.source(), LinkOption.NOFOLLOW_LINKS);
                if (folder || Files.isRegularFile(mount.source(), LinkOption.NOFOLLOW_LINKS)) {
                    try {
                        before.put(mount, folder ? MountChanges.before(mount.source(), MountChanges.Limits.DEFAULT)
                                : MountChanges.beforeFile(mount.source()));
                    } catch (IOException e) {
                        trail.record(MountChanges.unreadable(Instant.now(), mount.target(), "before the cage started", e));
                    }
                }
            }
        });
    }

    /** Waits for the walk of the writable folders, interrupted or not: nothing may write them before it is done. */
    private void awaitSnapshot() {
        if (beforeWalk == null) {
            return;
        }
        DaemonThreads.joinUninterruptibly(beforeWalk);
    }

    /** What the cage changed in each writable mount, into the trail, now that it has ended. */
    private void recordMountChanges() {
        awaitSnapshot();
        before.forEach((mount, snapshot) -> {
            // A trail kept in the folder changed as the launcher wrote it, not by the cage's hand.
            Path source = mount.source().toAbsolutePath().normalize();
            Path trailFile = trail.file().toAbsolutePath().normalize();
            String trailName = trailFile.startsWith(source) ? source.relativize(trailFile).toString() : null;
            try {
                MountChanges.Snapshot after = Files.isDirectory(mount.source(), LinkOption.NOFOLLOW_LINKS)
                        ? MountChanges.after(mount.source(), snapshot, trailName, MountChanges.Limits.DEFAULT)
                        : MountChanges.afterFile(mount.source(), snapshot, MountChanges.Limits.DEFAULT);
                MountChanges.lines(Instant.now(), mount.target(), snapshot.without(trailName), after,
                        MountChanges.Limits.DEFAULT).forEach(trail::record);
            } catch (IOException e) {
                trail.record(MountChanges.unreadable(Instant.now(), mount.target(), "after the cage ended", e));
            }
        });
    }

    /** Marks the cage as ended by a stop request or a signal to its owner, not by itself. */
    public void stoppedByUser() {
        stoppedByUser = true;
    }

    /** What its owner said, else what the runtime's process shows; a cage that never ran failed. */
    private CageTrail.Ending ending() {
        CageTrail.Ending told = ending;
        if (told != null) {
            return told.stoppedByUser() || !stoppedByUser ? told
                    : new CageTrail.Ending(told.exitCode(), true, told.problem());
        }
        Process process;
        synchronized (this) {
            process = runtimeProcess;
        }
        if (process == null) {
            return CageTrail.Ending.failed("it was taken down before it started");
        }
        if (process.isAlive()) {
            return CageTrail.Ending.failed("it was taken down while it ran");
        }
        return new CageTrail.Ending(process.exitValue(), stoppedByUser, null);
    }

    /** The cage's network services, or null unless the network is filtered. */
    public CageNetworking networking() {
        return networking;
    }

    /** Starts the cage in the foreground of the runtime, the runtime's stdio on {@code stdio}. */
    public synchronized Process start(Stdio stdio) {
        if (runtimeProcess != null) {
            throw new IllegalStateException("cage " + id + " was started already");
        }
        runtimeProcess = cage.start(stdio);
        return runtimeProcess;
    }

    /** Waits for the cage to end and says how, in {@code docker run}'s exit codes. */
    public RunOutcome awaitExit() throws InterruptedException {
        return outcome(runtimeProcess.waitFor());
    }

    /** As {@link #awaitExit()}, stopping the cage and failing when it runs longer than {@code timeout}. */
    public RunOutcome awaitExit(Duration timeout) throws InterruptedException {
        if (!runtimeProcess.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            stop(Duration.ofSeconds(5));
            throw new CageException("cage " + id + " did not finish within " + timeout.toSeconds() + "s and was stopped");
        }
        return outcome(runtimeProcess.exitValue());
    }

    private RunOutcome outcome(int exitCode) {
        RunOutcome outcome = RunOutcome.of(exitCode, cage.log().lastError());
        if (outcome.exitCode() == RunOutcome.LAUNCHER_FAILED) {
            throw plan.runtime().explainFailure("cage " + id + " did not start", cage.log());
        }
        return outcome;
    }

    /**
     * Stops the cage: the image's STOPSIGNAL, SIGTERM by default, to the cage's process (SIGTERM
     * through the runtime, which passes it on; another signal with the runtime's kill), then
     * SIGKILL when it has not ended within {@code grace}.
     */
    public void stop(Duration grace) {
        Process process;
        synchronized (this) {
            process = runtimeProcess;
        }
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            int signal = stopSignal(plan.image().stopSignal());
            if (signal == StopSignals.SIGTERM) {
                process.destroy();
            } else {
                cage.runtime().kill(id, Integer.toString(signal));
            }
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                cage.runtime().kill(id, "KILL");
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while stopping cage " + id);
        }
    }

    /** The image's STOPSIGNAL as a number; SIGTERM when it has none or one that names no signal. */
    static int stopSignal(String written) {
        if (written == null) {
            return StopSignals.SIGTERM;
        }
        try {
            return StopSignals.number(written);
        } catch (IllegalArgumentException e) {
            return StopSignals.SIGTERM;
        }
    }

    /** Removes everything the cage left, the cage before its network; safe to call twice and from a signal handler. */
    @Override
    public void close() {
        teardown.close();
    }
}
