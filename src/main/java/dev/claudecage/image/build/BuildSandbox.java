package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.CgroupDelegation;
import dev.claudecage.rootless.RootlessHost;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.OciRuntime;
import dev.claudecage.runtime.RunOutcome;
import dev.claudecage.runtime.RuntimeLog;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.security.SeccompPolicy;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs build steps: mounts each step's root ({@link BuildRoot}, a cage of the runtime's) and runs RUN
 * commands in it with runc, in the sandbox {@link BuildSpec} describes. The cage's configuration supplies the
 * resource limits and the runtime.
 */
public final class BuildSandbox {

    static final Duration RUN_TIMEOUT = Duration.ofHours(1);
    private static final String HOSTNAME = "claude-cage-build";

    private final CageConfig config;
    private final OciRuntime runtime;
    private final ImageStore store;
    private final StatePaths paths;
    private final ProcessRunner runner;
    private Spec.Seccomp seccomp;
    private final CgroupDelegation rootlessCgroups;

    /**
     * @param rootlessCgroups for a rootless user's build (run as root of its namespace), what the host
     *                        delegates to that user, so that each step's spec is adapted as a rootless
     *                        cage's is; null as root
     */
    public BuildSandbox(CageConfig config, OciRuntime runtime, ImageStore store, StatePaths paths, ProcessRunner runner,
                        CgroupDelegation rootlessCgroups) {
        this.config = config;
        this.runtime = runtime;
        this.store = store;
        this.paths = paths;
        this.runner = runner;
        this.rootlessCgroups = rootlessCgroups;
    }

    /**
     * Builds always get the shipped profile: one tuned for an agent's cage may not let apt through.
     * Made for the first RUN: a build whose steps all come from the cache runs none, and parsing
     * the profile was about a tenth of such a build.
     */
    private Spec.Seccomp seccomp() {
        if (seccomp == null) {
            seccomp = SeccompPolicy.defaultPolicy().toOci(System.getProperty("os.arch"));
        }
        return seccomp;
    }

    ImageStore store() {
        return store;
    }

    /** A step's root, to guard and then mount. */
    BuildRoot newRoot() {
        return new BuildRoot(Cage.newId("build"), store, paths, runtime, runner);
    }

    /** The root of another stage or image, to guard and then open (COPY --from). */
    SourceRoot newSource() {
        return new SourceRoot(Cage.newId("build-source"), store, paths, runner);
    }

    /**
     * What a RUN adds to the sandbox: its {@code --mount}s, in order; whether it runs without any
     * network ({@code --network=none}: a namespace of its own with only loopback); and secrets
     * it sees as environment variables, which win over everything else.
     */
    record StepOptions(List<Spec.Mount> mounts, boolean isolatedNetwork, Map<String, String> secretEnv) {
        static final StepOptions NONE = new StepOptions(List.of(), false, Map.of());

        StepOptions {
            mounts = List.copyOf(mounts);
            secretEnv = Map.copyOf(secretEnv);
        }
    }

    /**
     * Runs {@code args} in {@code root} as {@code user} (a USER value; null for root) in {@code workdir}.
     * The environment is the image's, then the ARG values it does not set, then HOME for the user.
     */
    void run(BuildRoot root, List<String> args, Map<String, String> imageEnv, Map<String, String> buildArgs,
             String user, String workdir, StepOptions options, BuildProgress.Step step) {
        UserDatabase.Identity identity;
        try {
            identity = UserDatabase.of(root.root()).forProcess(user);
        } catch (IOException e) {
            throw new CageException("cannot read the image's /etc/passwd: " + e.getMessage());
        }
        Spec cage = SpecBuilder.build(config, new CageRequest(args, false, root.id(), HOSTNAME, seccomp(), null,
                options.isolatedNetwork() ? NetworkAttachment.none() : NetworkAttachment.host()));
        List<String> env = new java.util.ArrayList<>(environment(imageEnv, buildArgs, identity));
        options.secretEnv().forEach((name, value) -> {
            env.removeIf(entry -> entry.startsWith(name + "="));
            env.add(name + "=" + value);
        });
        Spec built = BuildSpec.forRun(cage, args, env, identity, workdir == null || workdir.isEmpty() ? "/" : workdir,
                options.mounts());
        Spec spec = rootlessCgroups == null ? built : RootlessHost.adapt(built, rootlessCgroups);
        Cage stepCage = root.cage();
        stepCage.writeSpec(spec);
        RuntimeLog log = stepCage.log();
        StreamedCommand command = root.startContainer(() -> StreamedCommand.start(runner, stepCage.runCommand(), step));
        StreamedCommand.Outcome outcome = command.await(RUN_TIMEOUT);
        if (outcome.exitCode() == 0) {
            return;
        }
        Optional<String> runtimeError = log.lastError();
        RunOutcome how = RunOutcome.of(outcome.exitCode(), runtimeError);
        String message = switch (how.exitCode()) {
            case RunOutcome.NOT_FOUND -> "the command was not found in the image: " + runtimeError.orElse("");
            case RunOutcome.CANNOT_EXECUTE -> "the command cannot be executed: " + runtimeError.orElse("");
            case RunOutcome.LAUNCHER_FAILED -> runtimeError.isPresent()
                    ? runtime.explainFailure("the build step did not start", log).getMessage()
                    : "the command exited with code " + outcome.exitCode();
            default -> "the command exited with code " + outcome.exitCode();
        };
        throw new StepFailedException(message, null, outcome.tail());
    }

    static List<String> environment(Map<String, String> imageEnv, Map<String, String> buildArgs,
                                    UserDatabase.Identity identity) {
        Map<String, String> env = new LinkedHashMap<>();
        if (!imageEnv.containsKey("PATH")) {
            env.put("PATH", BaseImages.DEFAULT_PATH.substring("PATH=".length()));
        }
        env.putAll(imageEnv);
        buildArgs.forEach(env::putIfAbsent);
        env.putIfAbsent("HOME", identity.home());
        return env.entrySet().stream().map(entry -> entry.getKey() + "=" + entry.getValue()).toList();
    }
}
