package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.host.Host;
import dev.claudecage.oci.Spec;
import dev.claudecage.process.Executables;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.Stdio;
import dev.claudecage.rootless.UserNamespace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * runc, crun or runsc, driven through their command line. Our containers live under their own state
 * root, so claude-cage never sees or touches containers that other tools made.
 *
 * @param platform runsc's platform ({@link RunscPlatforms}); null for runc and crun
 */
public record OciRuntime(RuntimeKind kind, Path binary, Path stateRoot, String platform, ProcessRunner runner,
                         CommandScope scope) {

    private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(30);

    /** The runtime as this process runs it (root mode). */
    public OciRuntime(RuntimeKind kind, Path binary, Path stateRoot, String platform, ProcessRunner runner) {
        this(kind, binary, stateRoot, platform, runner, CommandScope.HOST);
    }

    /** runc or crun as this process runs it (root mode). */
    public OciRuntime(RuntimeKind kind, Path binary, Path stateRoot, ProcessRunner runner) {
        this(kind, binary, stateRoot, null, runner);
    }

    /**
     * The same runtime, run as root of a rootless cage's user namespace ({@code --rootless true}:
     * no cgroups unless the spec names a delegated one, device nodes bound rather than made).
     */
    public OciRuntime rootlessIn(UserNamespace namespace) {
        return new OciRuntime(kind, binary, stateRoot, platform, runner, namespace);
    }

    private boolean rootless() {
        return scope != CommandScope.HOST;
    }

    /**
     * Finds the runtime's binary on the PATH; a missing one is an error that says how to get it.
     * {@code runscPlatform} is the configured {@code runsc_platform}, used only for runsc.
     */
    public static OciRuntime locate(RuntimeKind kind, String runscPlatform, Path stateRoot, ProcessRunner runner) {
        if (kind == RuntimeKind.RUNSC && Host.effectiveUid() != 0) {
            // Never tried: runsc's --rootless runs its sandbox and file server with the user's own rights, and
            // claude-cage's rootless cage (its user namespace, overlay root and network) was never run under it.
            throw new CageException("runtime runsc runs cages as root only: claude-cage does not run gVisor rootless",
                    "run it with sudo, or run rootless with --runtime runc");
        }
        Path binary = Executables.find(kind.binaryName()).orElseThrow(() -> new CageException(
                "runtime '" + kind.configName() + "' was not found on the PATH",
                "install it (apt-get install " + kind.binaryName() + ") or choose another with --runtime"));
        return new OciRuntime(kind, binary, stateRoot.resolve(kind.configName()),
                kind == RuntimeKind.RUNSC ? RunscPlatforms.choose(runscPlatform, stateRoot) : null, runner);
    }

    /** The spec as this runtime must get it: the same for runc and crun, {@link Runsc#adapt adapted} for runsc. */
    public Spec adapt(Spec spec) {
        return kind == RuntimeKind.RUNSC ? Runsc.adapt(spec) : spec;
    }

    /**
     * What {@code run} needs of a cage's spec besides the bundle.
     *
     * @param launcher the command that starts the runtime where it must start (runsc with gVisor's own
     *                 network stack), or empty
     * @param flags    the runtime's options before {@code run} (runsc's platform and network)
     */
    public record RunOptions(List<String> launcher, List<String> flags) {
        public static final RunOptions NONE = new RunOptions(List.of(), List.of());

        public RunOptions {
            launcher = List.copyOf(launcher);
            flags = List.copyOf(flags);
        }
    }

    /** What {@code run} needs to know of the cage's spec besides the bundle: nothing for runc and crun. */
    public RunOptions runOptions(Spec spec) {
        return kind == RuntimeKind.RUNSC ? Runsc.runOptions(platform, spec) : RunOptions.NONE;
    }

    /**
     * The command line that runs a bundle in the foreground and removes the container when it ends;
     * {@code options} are the {@link #runOptions} of its spec.
     */
    public List<String> runCommand(String containerId, Path bundle, RuntimeLog log, RunOptions options) {
        List<String> command = new ArrayList<>(options.launcher());
        command.addAll(globalOptions(log));
        command.addAll(options.flags());
        command.addAll(List.of("run", "--bundle", bundle.toString(), containerId));
        return scope.wrap(command);
    }

    /** Starts {@link #runCommand} with the cage's stdio on {@code stdio} (this process's terminal, or a pty). */
    public Process startRun(String containerId, Path bundle, RuntimeLog log, RunOptions options, Stdio stdio) {
        return runner.startAttached(runCommand(containerId, bundle, log, options), stdio);
    }

    /** Sends a signal to the container's init process; a container that is already gone is not an error. */
    public void kill(String containerId, String signal) {
        runner.runAllowingFailure(control("kill", containerId, signal), CONTROL_TIMEOUT);
    }

    /** Removes the container whatever its state; a container that is already gone is not an error. */
    public void forceDelete(String containerId) {
        runner.remove(control("delete", "--force", containerId), CONTROL_TIMEOUT);
        if (kind == RuntimeKind.RUNSC) {
            removeOrphanedRunscLock(stateRoot, containerId);
        }
    }

    /**
     * runsc keeps a container's state in {@code ID_sandbox:ID.state} beside a lock file of the same
     * name, and runsc 20221219 leaves that lock file behind when it force-deletes a container in some
     * cases (verify's second cage, two files a run): once the state file is gone, nothing locks it
     * again. The state root is root's alone and the name is ours, so the unlink cannot be pointed
     * elsewhere.
     */
    static void removeOrphanedRunscLock(Path stateRoot, String containerId) {
        String stem = containerId + "_sandbox:" + containerId;
        if (Files.exists(stateRoot.resolve(stem + ".state"), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.deleteIfExists(stateRoot.resolve(stem + ".lock"));
        } catch (IOException e) {
            throw new CageException("could not remove runsc's lock file of container " + containerId + " in " + stateRoot
                    + ": " + e.getMessage());
        }
    }

    /**
     * Whether the container of a {@link #runCommand} whose runtime has exited is gone already, so that
     * {@link #forceDelete} would do nothing. runc makes the container's state folder before it starts
     * anything of the container, and removes it last when it destroys the container at the end of
     * {@code run} (after killing what is left in its cgroup, and whether or not the cgroup could be
     * removed); {@code runc delete --force} of an id without that folder finds no container and
     * removes nothing else. crun is always asked.
     */
    public boolean removedAfterItsRun(String containerId) {
        return kind == RuntimeKind.RUNC && !Files.exists(stateRoot.resolve(containerId), LinkOption.NOFOLLOW_LINKS);
    }

    /** The ids of the containers under our state root. */
    public List<String> list() {
        if (!Files.isDirectory(stateRoot)) {
            return List.of();
        }
        CommandResult result = runner.run(control("list", "--quiet"), CONTROL_TIMEOUT);
        return result.stdout().lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
    }

    /**
     * Explains a failed start in words a user can act on, from the runtime's log. crun refuses
     * hosts with cgroup v1 controllers beside a v2 hierarchy; that gets its own message.
     */
    public CageException explainFailure(String what, RuntimeLog log) {
        String error = log.lastError().orElse("no error was logged (see " + log.file() + ")");
        if (kind == RuntimeKind.CRUN && error.contains("hybrid")) {
            return new CageException(
                    "crun cannot run cages on this host: it does not support the hybrid cgroup layout here "
                            + "(cgroup v1 controllers with a v2 hierarchy beside them): " + error,
                    "use --runtime runc, or boot the host with the unified cgroup v2 hierarchy "
                            + "(systemd.unified_cgroup_hierarchy=1)");
        }
        return new CageException(what + ": " + kind.configName() + " reported: " + error);
    }

    private List<String> control(String... args) {
        List<String> command = base();
        command.addAll(Arrays.asList(args));
        return scope.wrap(command);
    }

    private List<String> globalOptions(RuntimeLog log) {
        List<String> command = base();
        command.addAll(List.of("--log", log.file().toString(), "--log-format", "json"));
        return command;
    }

    private List<String> base() {
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--root", stateRoot.toString()));
        if (rootless()) {
            command.addAll(List.of("--rootless", "true"));
        }
        return command;
    }
}
