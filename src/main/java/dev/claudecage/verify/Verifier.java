package dev.claudecage.verify;

import dev.claudecage.CageException;
import dev.claudecage.host.InvokingUser;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountOwnership;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.host.Host;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.IdBlock;
import dev.claudecage.json.Json;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.cage.CageNetwork;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.Stdio;
import dev.claudecage.rootless.UserNamespace;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.CageInstance;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.session.CgroupStats;
import dev.claudecage.session.HostProbe;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the probe catalogue in a cage built exactly as {@code run} builds one, then, for the
 * positive controls, each group of probes again in a cage with their wall taken down.
 */
public final class Verifier {

    private static final Duration CAGE_TIMEOUT = Duration.ofMinutes(5);
    /** Probes whose verdict the host's canary can overrule. */
    private static final List<String> NETWORK_PROBES = List.of("network-isolated", "gateway-other-ports-blocked",
            ProbeCatalogue.GATEWAY_IDLE_PORTS, ProbeCatalogue.API_DIRECT_ROUTE);

    private static final String GATEWAY_PROBE = "gateway-other-ports-blocked";
    /**
     * The resource bombs under gVisor, and how their cage ends when the host's limit stops them.
     * gVisor's kernel runs on host threads (and, on ptrace, a host process for each process of the
     * cage) and holds the cage's memory itself: the pids limit stops it making a thread, and it exits
     * with Go's fatal error code 2; the memory limit's OOM killer kills it (SIGKILL, 137). The limit
     * holds, by ending the cage as a whole rather than one fork or one process.
     */
    static final Map<String, Integer> GVISOR_BOMB_ENDS_THE_CAGE = Map.of("pids-limit-holds", 2,
            "memory-limit-holds", 137);
    /** Probes whose control grants a capability that only counts in the host's user namespace. */
    private static final List<String> NEED_HOST_CAPABILITIES = List.of(
            "open-by-handle-denied", "mknod-denied", "swapon-denied", "kernel-log-denied");

    /**
     * Probes whose positive control cannot open the hole under gVisor, because gVisor's own kernel
     * closes it whatever the spec says (seen with runsc 20221219), or does not let it open reliably:
     * the probe still runs and must find its wall, but the control would prove nothing about
     * claude-cage's.
     */
    static final Map<String, String> GVISOR_CLOSES_ITSELF = Map.ofEntries(
            Map.entry("raw-socket-denied", "gVisor refuses raw sockets itself unless runsc is given --net-raw, "
                    + "which claude-cage never gives"),
            Map.entry("packet-socket-denied", "gVisor refuses packet sockets itself unless runsc is given --net-raw, "
                    + "which claude-cage never gives"),
            Map.entry("bpf-denied", "gVisor does not implement bpf(2)"),
            Map.entry("clone3-enosys", "gVisor does not implement clone3: its kernel answers ENOSYS itself"),
            Map.entry("clock-denied", "gVisor's kernel never sets the host's clock"),
            Map.entry("tiocsti-denied", "gVisor's terminals do not implement TIOCSTI"),
            Map.entry("tiocsti-high-bits-denied", "gVisor's terminals do not implement TIOCSTI"),
            Map.entry("devices-minimal", "runsc 20221219 mounts gVisor's own /dev (a devtmpfs) whatever the spec "
                    + "mounts there, the host's /dev included"),
            Map.entry("hostname-isolated", "gVisor's kernel has its own hostname whatever namespace runsc runs in"),
            Map.entry("host-pids-invisible", "gVisor's kernel has its own processes only, whatever namespace runsc "
                    + "runs in"),
            Map.entry("setuid-inert", "gVisor does not honour the setuid bit of the fixture program"),
            Map.entry("no-new-privs-set", "runsc sets no_new_privs on the cage's process even where the spec does not"),
            // Seen in a CI run after several passing ones: the control's cage was OOM-killed (exit 137) with no result.
            Map.entry("pids-limit-holds", "without the pids limit the fork bomb's cage meets its memory limit first, "
                    + "or not, from run to run: gVisor's kernel holds the cage's memory and the OOM killer then ends "
                    + "the whole sandbox, so the control cannot show the hole reliably"));
    /**
     * Probes that look at something gVisor does not give the cage at all. Under runsc a cage has host
     * ids of its own as under runc, but no host process runs as them with the cage's uid: its
     * processes are the sentry's, which runs (with its ptrace stubs) as host nobody (65534, seen with
     * ps) in a user namespace of its own that maps that one id, and its file server (the gofer) runs
     * as the cage's root, its block's first host id, in the cage's user namespace. The other two
     * identity probes judge the file server's maps ({@link IdentityCheck#hostSideUnderGvisor}). The file
     * server opens every bind source from the cage's user namespace, the fixtures' too: each is staged
     * where only the cage's root may pass, nothing beside it opened to the cage's ids
     * ({@code runtime/CageIdentity#stageForTheFileServer}).
     */
    static final Map<String, String> GVISOR_HAS_NO_SUCH_THING = Map.of(
            "cgroupfs-read-only", "gVisor mounts no cgroup filesystem in the cage (the spec's cgroup mount would be "
                    + "the host's; gVisor shows none), so there is no release_agent to write",
            ProbeCatalogue.HOST_USER_TRACE, "under gVisor no host process has the cage's uid: the cage's processes are "
                    + "the sentry's, which runs (with its ptrace stubs) as host nobody (65534) in a user namespace "
                    + "of its own, and its file server runs as the cage's root, its own block's first host id");

    /**
     * What gVisor's kernel adds to every cage's /dev whatever the spec says (runsc 20221219 has no flag
     * against it), which devices-minimal accepts with this reason: they open its own devices, no host's.
     */
    static final List<String> GVISOR_OWN_DEVICES = List.of(
            "CAGE_VERIFY_RUNTIME_DEVICES=fuse,net",
            "CAGE_VERIFY_RUNTIME_DEVICES_WHY=gVisor's kernel makes /dev/fuse and /dev/net/tun in every sandbox; they "
                    + "open its own FUSE and TUN devices, not the host's, and do nothing without a FUSE mount (mount(2) "
                    + "is refused) or CAP_NET_ADMIN (TUNSETIFF)");

    private final StatePaths paths;
    private final ProcessRunner runner;

    public Verifier(StatePaths paths, ProcessRunner runner) {
        this.paths = paths;
        this.runner = runner;
    }

    /** Runs the probes in a fresh cage built from {@code resolved}, as {@code run} would build it. */
    public VerifyReport verify(CagePlan resolved, boolean withControls) {
        CageConfig config = resolved.config();
        try (VerifyFixtures fixtures = fixtures(resolved)) {
            CagePlan plan = withFixtureApiRoute(withFixtureWorkspace(resolved, fixtures), fixtures);
            List<Probe> probes = ProbeCatalogue.probes(fixtures, config.network());
            Map<String, Finding> findings = new HashMap<>(notRunRootless(plan));
            if (plan.runtime().kind() == RuntimeKind.RUNSC) {
                GVISOR_HAS_NO_SUCH_THING.forEach((probe, reason) -> findings.put(probe, new Finding(Outcome.NOT_RUN, reason)));
            }
            // Verify's cages hold its stand-in key, so only the git gateway can be idle.
            noIdlePort(config, true).ifPresent(reason -> findings.putIfAbsent(ProbeCatalogue.GATEWAY_IDLE_PORTS,
                    new Finding(Outcome.NOT_RUN, reason)));
            List<Probe> runnable = probes.stream().filter(probe -> !findings.containsKey(probe.id())).toList();
            for (List<Probe> batch : batches(plan, runnable)) {
                findings.putAll(runProbes(plan, fixtures, batch, null));
            }
            return report(VerifyReport.FRESH_CAGE, plan.runtime().kind().configName(), plan, fixtures, probes,
                    findings, withControls);
        }
    }

    /**
     * The cages the probes run in: one, but under gVisor each resource bomb gets its own, as it ends
     * its whole cage there ({@link #GVISOR_BOMB_ENDS_THE_CAGE}) and would take the probes after it along.
     */
    private static List<List<Probe>> batches(CagePlan plan, List<Probe> probes) {
        if (plan.runtime().kind() != RuntimeKind.RUNSC) {
            return List.of(probes);
        }
        List<List<Probe>> batches = new ArrayList<>();
        batches.add(probes.stream().filter(probe -> !GVISOR_BOMB_ENDS_THE_CAGE.containsKey(probe.id())).toList());
        probes.stream().filter(probe -> GVISOR_BOMB_ENDS_THE_CAGE.containsKey(probe.id())).forEach(probe ->
                batches.add(List.of(probe)));
        return batches;
    }

    /**
     * The probes a rootless cage cannot take, and why: the resource bombs where the host cannot
     * enforce limits for this user (the cage runs without them, by the user's choice, and their
     * control, a bomb with no limit at all, must not run on the host), and the gateway probe, as a
     * rootless cage has no gateway address.
     */
    private static Map<String, Finding> notRunRootless(CagePlan plan) {
        Map<String, Finding> notRun = new HashMap<>();
        if (plan.rootless() == null) {
            return notRun;
        }
        String byDesign = "a rootless cage's user is the invoking user by design (what it writes in your mounts is yours), "
                + "in your own user namespace, whose other ids are your subordinate ones";
        for (String probe : List.of(ProbeCatalogue.OWN_IDS, ProbeCatalogue.HOST_USER_TRACE, ProbeCatalogue.IDS_DISJOINT)) {
            notRun.put(probe, new Finding(Outcome.NOT_RUN, byDesign));
        }
        if (!plan.rootless().cgroups().delegated()) {
            String reason = "this host cannot enforce limits for this user (" + plan.rootless().cgroups().detail()
                    + "), and allow_unlimited runs the cage without them";
            notRun.put("pids-limit-holds", new Finding(Outcome.NOT_RUN, reason));
            notRun.put("memory-limit-holds", new Finding(Outcome.NOT_RUN, reason));
        }
        if (plan.config().network() == NetworkMode.FILTERED) {
            String reason = "a rootless cage has no gateway address: its namespace has loopback only "
                    + "(network-interfaces-expected), with the proxy and the gateways that run relayed onto it";
            notRun.put(GATEWAY_PROBE, new Finding(Outcome.NOT_RUN, reason));
            notRun.put(ProbeCatalogue.GATEWAY_IDLE_PORTS, new Finding(Outcome.NOT_RUN, reason));
        }
        return notRun;
    }

    /**
     * Why a probe's positive control cannot run, or null when it can. Rootless: a probe that did not
     * run has no control (a bomb with no limit must not run on the host); and a control that grants a
     * capability the kernel checks in the host's user namespace cannot show the hole, since no
     * rootless cage can be given one (the user namespace is a second wall).
     */
    private static String controlUnavailable(CagePlan plan, Probe probe, Finding finding) {
        if (probe.id().equals(ProbeCatalogue.GATEWAY_IDLE_PORTS)) {
            // The controls run in fresh cages, with verify's stand-in key.
            Optional<String> noIdlePort = noIdlePort(plan.config(), true);
            if (noIdlePort.isPresent()) {
                return noIdlePort.get();
            }
        }
        if (plan.runtime().kind() == RuntimeKind.RUNSC && GVISOR_CLOSES_ITSELF.containsKey(probe.id())) {
            return GVISOR_CLOSES_ITSELF.get(probe.id());
        }
        if (plan.runtime().kind() == RuntimeKind.RUNSC && GVISOR_HAS_NO_SUCH_THING.containsKey(probe.id())) {
            return "the probe did not run";
        }
        if (plan.rootless() == null) {
            return null;
        }
        if (finding.outcome() == Outcome.NOT_RUN) {
            return "the probe did not run";
        }
        if (NEED_HOST_CAPABILITIES.contains(probe.id())) {
            return "its wall is a capability the kernel checks in the host's user namespace, which no rootless cage "
                    + "can be given, so the user namespace is a second wall no control can take down";
        }
        return null;
    }

    /** Why no gateway port is idle in this configuration, when none is: there is nothing to probe. */
    private static Optional<String> noIdlePort(CageConfig config, boolean hasKey) {
        if (config.network() != NetworkMode.FILTERED
                || !GatewayPorts.STANDARD.idleTcpPorts(CageNetworking.services(config, hasKey)).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("every gateway service runs here (the API gateway with the key, the git gateway with "
                + "git_credentials), so no gateway port is idle");
    }

    /**
     * The API's hosts pinned to verify's loopback canary and allowed on its port, so that if the direct API route
     * is open (its control opens it), the probe reaches the canary, never the API.
     */
    private static CagePlan withFixtureApiRoute(CagePlan plan, VerifyFixtures fixtures) {
        CageConfig config = plan.config();
        if (config.network() != NetworkMode.FILTERED) {
            return plan;
        }
        Map<String, List<String>> resolve = new LinkedHashMap<>(config.egress().resolve());
        List<String> allowed = new ArrayList<>(config.allowedHosts());
        for (String host : EgressPolicy.apiHostNames(config)) {
            resolve.put(host, List.of(VerifyFixtures.API_CANARY_ADDRESS));
            allowed.add(host + ":" + fixtures.apiCanaryPort());
        }
        return plan.withConfig(config.withEgressPolicy(allowed, config.egress().withResolve(resolve)));
    }

    /**
     * The fixtures; a rootless cage's setuid helper is made in a namespace mapped as the cages' are.
     * The fixture workspace belongs to the user whose checkout the cage would work in: rootless, the
     * invoking user; as root, the one the cage would write as (never root: the cage's own ids then).
     */
    private VerifyFixtures fixtures(CagePlan plan) {
        Path rootfs = plan.layerHolding("usr/bin/id");
        if (plan.rootless() == null) {
            CageConfig config = plan.config();
            HostIds owner = MountOwnership.checkoutOwner(config.mountOwner(), InvokingUser.sudoIds(System.getenv()),
                    new HostIds(config.uid(), config.gid()));
            return VerifyFixtures.create(paths.runs(), rootfs, CommandScope.HOST, owner, runner);
        }
        try (UserNamespace namespace = UserNamespace.create(plan.rootless().uids(), plan.rootless().gids(), runner)) {
            return VerifyFixtures.create(paths.runs(), rootfs, namespace,
                    new HostIds(Host.effectiveUid(), Host.effectiveGid()), runner);
        }
    }

    /**
     * Runs the probes inside a running session's cage, as its user and behind its walls, without
     * changing it: the probe script comes on stdin and the cage gets no fixture mounts, so the few
     * probes that need one, or that would starve the session's own processes, are reported as not
     * run. The positive controls run in fresh cages built from the session's configuration.
     */
    public VerifyReport verifySession(Sessions sessions, SessionName name, boolean withControls) {
        Sessions.LiveCage cage = sessions.live(name);
        CageConfig config = cage.config();
        // The session's own plan: its controls run on the image it runs, even if the name has moved since.
        CagePlan plan = cage.plan();
        try (VerifyFixtures fixtures = fixtures(plan)) {
            List<Probe> probes = ProbeCatalogue.probes(fixtures, config.network());
            Optional<String> readOnlyMount = config.mounts().stream().filter(MountSpec::readOnly)
                    .map(MountSpec::target).findFirst();
            Spec spec = readSpec(paths.bundle(cage.containerId()).resolve("config.json"));
            // The API gateway runs, and the cage was pointed at it, only with the key on the host.
            boolean hasKey = spec.process().env().stream().anyMatch(entry -> entry.startsWith("ANTHROPIC_BASE_URL="));
            Map<String, Finding> findings = new HashMap<>(notRunInSession(cage, readOnlyMount.isPresent()));
            noIdlePort(config, hasKey).ifPresent(reason -> findings.put(ProbeCatalogue.GATEWAY_IDLE_PORTS,
                    new Finding(Outcome.NOT_RUN, reason)));
            // A rootless session's reasons are the rootless ones: no limits to read, no gateway to probe.
            findings.putAll(notRunRootless(plan));
            List<Probe> runnable = probes.stream().filter(probe -> !findings.containsKey(probe.id())).toList();
            List<String> writable = new ArrayList<>(writableIn(spec.mounts(), writableTargets(config)));
            if (cage.persistedHome()) {
                writable.add(SpecBuilder.CAGE_HOME);
            }
            List<String> gateway = config.network() == NetworkMode.FILTERED && plan.rootless() == null
                    ? CageNetwork.gatewayAddresses(cage.containerId(), runner) : List.of();
            List<Integer> idle = gateway.isEmpty() ? List.of()
                    : GatewayPorts.STANDARD.idleTcpPorts(CageNetworking.services(config, hasKey));
            VerifyFixtures.ProbeTarget target = new VerifyFixtures.ProbeTarget(gateway, readOnlyMount.orElse(null),
                    null, null, config.protectedPaths(), config.pidsLimit(), config.memoryBytes(), writable,
                    spec.linux().maskedPaths(), spec.linux().readonlyPaths(), idle, List.of());
            List<String> command = new ArrayList<>(List.of("perl", "-"));
            runnable.forEach(probe -> command.add(probe.id()));
            // The session runs all along: the host checks it from outside first, and its probes need not wait.
            Map<String, Finding> fromOutside = IdentityCheck.actsWhileRunning(runnable, plan)
                    ? new IdentityCheck(paths, runner).whileRunning(cage.containerId(), plan, runnable) : Map.of();
            fixtures.takeCanaryHits();
            List<String> environment = new ArrayList<>(fixtures.environment(target));
            if (cage.runtime() == RuntimeKind.RUNSC) {
                environment.addAll(GVISOR_OWN_DEVICES);
            }
            CommandResult run = runner.runWithInput(
                    sessions.execCommand(cage, environment, command, false), CAGE_TIMEOUT,
                    fixtures.script());
            findings.putAll(interpret(runnable, fixtures, run.exitCode(), run.stdout(), run.stderr()));
            findings.putAll(fromOutside);
            judgeOwnIds(findings, paths.idAllocations().recorded().get(cage.containerId()));
            // The controls run in fresh cages, where the workspace probes get the fixture checkout, the API's
            // hosts lead to the canary, and the session's own writable mounts are read-only: the session
            // writes them, and one folder has one writer (a control with its wall down least of all).
            return report("session " + name, cage.runtime().configName(),
                    withFixtureApiRoute(withFixtureWorkspace(plan.withConfig(config.withMounts(readOnly(config.mounts()))),
                            fixtures), fixtures), fixtures, probes, findings, withControls);
        }
    }

    /** The probes a live session cannot take, and why; the host's view of its limits where that helps. */
    private Map<String, Finding> notRunInSession(Sessions.LiveCage cage, boolean hasReadOnlyMount) {
        CgroupStats limits = CgroupStats.read(HostProbe.CGROUP_ROOT, cage.containerId());
        Map<String, Finding> notRun = new HashMap<>();
        notRun.put("setuid-inert", new Finding(Outcome.NOT_RUN, "needs a setuid-root program mounted into the cage, "
                + "and a running cage gets no new mounts (no-new-privs-set checks the flag that disarms setuid)"));
        for (String probe : List.of("workspace-protected-paths-hold", "workspace-folders-pinned")) {
            notRun.put(probe, new Finding(Outcome.NOT_RUN, "would write into the session's own workspace if its wall "
                    + "failed; a fresh-cage verify probes a fixture checkout instead"));
        }
        if (!hasReadOnlyMount) {
            notRun.put("readonly-mount-holds", new Finding(Outcome.NOT_RUN, "the session has no read-only mount"));
        }
        notRun.put(ProbeCatalogue.API_DIRECT_ROUTE, new Finding(Outcome.NOT_RUN, "would reach the session's real API "
                + "upstream if its wall failed (a running cage gets no pins of verify's); a fresh-cage verify points "
                + "the API's hosts at its canary"));
        notRun.put("pids-limit-holds", new Finding(Outcome.NOT_RUN, "a fork bomb would starve the session's own "
                + "processes; the host reads pids.max = " + limitWord(limits.pidsLimit()) + " in its cgroup"));
        notRun.put("memory-limit-holds", new Finding(Outcome.NOT_RUN, "a memory bomb would push the session's own "
                + "processes out; the host reads a memory limit of " + limitWord(limits.memoryLimitBytes()) + " bytes in its cgroup"));
        return notRun;
    }

    private static String limitWord(Long limit) {
        return limit == null ? "none (unlimited or unreadable)" : limit.toString();
    }

    private static List<MountSpec> readOnly(List<MountSpec> mounts) {
        return mounts.stream().map(mount -> new MountSpec(mount.source(), mount.target(), true)).toList();
    }

    /** The fixture workspace as one more of the user's mounts, so that its wall is built as theirs is. */
    private static CagePlan withFixtureWorkspace(CagePlan plan, VerifyFixtures fixtures) {
        List<MountSpec> mounts = new ArrayList<>(plan.config().mounts());
        mounts.add(fixtures.workspaceMount());
        return plan.withConfig(plan.config().withMounts(mounts));
    }

    private VerifyReport report(String target, String runtime, CagePlan plan, VerifyFixtures fixtures,
                                List<Probe> probes, Map<String, Finding> findings, boolean withControls) {
        Map<String, Finding> controls = new HashMap<>();
        if (withControls) {
            Map<String, List<Probe>> byWeakening = new LinkedHashMap<>();
            probes.stream().filter(probe -> controlUnavailable(plan, probe, findings.get(probe.id())) == null)
                    .forEach(probe -> byWeakening.computeIfAbsent(probe.control().description(), key -> new ArrayList<>())
                    .add(probe));
            for (List<Probe> group : byWeakening.values()) {
                controls.putAll(runProbes(plan, fixtures, group, group.get(0).control()));
            }
        }
        List<VerifyReport.ProbeResult> results = probes.stream().map(probe -> {
            Finding finding = findings.get(probe.id());
            Finding control = controls.get(probe.id());
            String noControl = withControls ? controlUnavailable(plan, probe, finding) : null;
            String detail = noControl == null || finding.outcome() == Outcome.NOT_RUN ? finding.detail()
                    : finding.detail() + "; positive control not run: " + noControl;
            return new VerifyReport.ProbeResult(probe.id(), probe.wall(), probe.description(),
                    finding.outcome(), detail, control == null ? null
                    : new VerifyReport.ControlResult(probe.control().description(), control.outcome(), control.detail()));
        }).toList();
        CageConfig config = plan.config();
        String root = config.rootfs() != null ? "rootfs " + config.rootfs() : "image " + config.image();
        return new VerifyReport(VerifyReport.REPORT_VERSION, target, runtime, root, plan.policy().appArmor().detail(),
                withControls, results);
    }

    record Finding(Outcome outcome, String detail) {
    }

    private static List<String> writableTargets(CageConfig config) {
        return config.mounts().stream().filter(mount -> !mount.readOnly()).map(MountSpec::target).toList();
    }

    private Map<String, Finding> runProbes(CagePlan unweakened, VerifyFixtures fixtures, List<Probe> probes,
                                           Weakening weakening) {
        String id = Cage.newId(weakening == null ? "verify" : "control");
        CagePlan plan = weakening == null ? unweakened : weakening.applyTo(unweakened);
        CageConfig config = plan.config();
        Path networkState = paths.networkState(id);
        CageNetworking.Options held = new CageNetworking.Options(ApiCredential.apiKey(fixtures.realKey(), "verify's test key"),
                networkState.resolve("audit.jsonl"), networkState, paths.networkLock());
        CageNetworking.Options network = weakening == null ? held : weakening.applyTo(held);
        fixtures.takeCanaryHits();
        fixtures.hostCheckPending();
        CapturedRun run;
        IdBlock ownIds;
        Map<String, Finding> fromOutside = new HashMap<>();
        try (CageInstance cage = CageInstance.prepare(plan, id, VerifyFixtures.probeCommand(probes), false, network,
                null, paths, runner, (spec, networking) -> {
                    Spec withFixtures = fixtures.addTo(spec, networking, config.pidsLimit(), config.memoryBytes(),
                            writableIn(spec.mounts(), writableTargets(config)), config.protectedPaths(),
                            List.copyOf(EgressPolicy.apiHostNames(config)));
                    if (plan.runtime().kind() == RuntimeKind.RUNSC) {
                        List<String> env = new ArrayList<>(withFixtures.process().env());
                        env.addAll(GVISOR_OWN_DEVICES);
                        withFixtures = withFixtures.withProcess(withFixtures.process().withEnv(env));
                    }
                    return weakening == null ? withFixtures : weakening.applyTo(withFixtures);
                })) {
            ownIds = cage.ownIds();
            run = CapturedRun.of(cage, CAGE_TIMEOUT, () -> {
                try {
                    if (IdentityCheck.actsWhileRunning(probes, plan)) {
                        fromOutside.putAll(new IdentityCheck(paths, runner).whileRunning(id, plan, probes));
                    }
                } finally {
                    fixtures.hostCheckDoneNow();
                }
            });
        }
        Map<String, Finding> findings = interpret(probes, fixtures, run.exitCode(), run.stdout(), run.stderr());
        Integer ending = probes.size() == 1 ? GVISOR_BOMB_ENDS_THE_CAGE.get(probes.get(0).id()) : null;
        if (plan.runtime().kind() == RuntimeKind.RUNSC && ending != null && ending == run.exitCode()
                && run.stdout().isBlank()) {
            findings.put(probes.get(0).id(), new Finding(Outcome.BLOCKED, "the limit ended the whole cage (exit code "
                    + ending + "): gVisor's kernel counts against it with the cage's processes"));
        }
        findings.putAll(fromOutside);
        judgeOwnIds(findings, ownIds);
        return findings;
    }

    /** The host's verdict on the cage's view of its own ids, where that probe ran. */
    private static void judgeOwnIds(Map<String, Finding> findings, IdBlock ownIds) {
        Finding inCage = findings.get(ProbeCatalogue.OWN_IDS);
        if (inCage != null) {
            findings.put(ProbeCatalogue.OWN_IDS, IdentityCheck.judgeOwnIds(inCage, ownIds, InvokingUser.current().ids(),
                    IdentityCheck.read(Path.of("/etc/passwd")), IdentityCheck.read(Path.of("/etc/group"))));
        }
    }

    /** The probes' findings from their output, overruled by the host's canaries where those saw a hit. */
    private static Map<String, Finding> interpret(List<Probe> probes, VerifyFixtures fixtures, int exitCode,
                                                  String stdout, String stderr) {
        int canaryHits = fixtures.takeCanaryHits().size();
        Map<String, Finding> findings = parse(stdout);
        for (Probe probe : probes) {
            findings.putIfAbsent(probe.id(), new Finding(Outcome.ERROR,
                    "the probe printed no result (cage exit code " + exitCode + "; "
                            + stderr.strip().lines().reduce((first, second) -> second).orElse("no stderr") + ")"));
        }
        if (canaryHits > 0) {
            // The host's own record outranks what the cage says about itself.
            for (String probe : NETWORK_PROBES) {
                if (findings.containsKey(probe)) {
                    findings.put(probe, new Finding(Outcome.HOLE, "the host canary recorded " + canaryHits
                            + " connection(s) from the cage; " + findings.get(probe).detail()));
                }
            }
        }
        return findings;
    }

    private static Spec readSpec(Path file) {
        try {
            return Json.read(Files.readString(file), Spec.class);
        } catch (IOException | RuntimeException e) {
            throw new CageException("cannot read the running cage's spec " + file + ": " + e.getMessage());
        }
    }

    /** The writable mounts and the writable pins of the workspace wall inside them. */
    private static List<String> writableIn(List<Spec.Mount> cageMounts, List<String> writableTargets) {
        List<String> writable = new ArrayList<>(writableTargets);
        cageMounts.stream()
                .filter(mount -> mount.options().contains("rw")
                        && writableTargets.stream().anyMatch(target -> mount.destination().startsWith(target + "/")))
                .forEach(mount -> writable.add(mount.destination()));
        return writable;
    }

    /**
     * The probe cage's output and exit code, read while it runs so that no pipe fills up; {@code alongside}
     * runs while the cage does (the host's checks from outside).
     */
    private record CapturedRun(int exitCode, String stdout, String stderr) {
        static CapturedRun of(CageInstance cage, Duration timeout, Runnable alongside) {
            Process process = cage.start(Stdio.all(ProcessBuilder.Redirect.PIPE));
            try {
                process.getOutputStream().close();
                CompletableFuture<String> out = read(process.getInputStream());
                CompletableFuture<String> err = read(process.getErrorStream());
                alongside.run();
                int exitCode = cage.awaitExit(timeout).exitCode();
                return new CapturedRun(exitCode, out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CageException("interrupted while the verify cage " + cage.id() + " ran");
            } catch (IOException | ExecutionException | TimeoutException e) {
                throw new CageException("cannot read the output of the verify cage " + cage.id() + ": " + e);
            }
        }

        private static CompletableFuture<String> read(InputStream stream) {
            return CompletableFuture.supplyAsync(() -> {
                try (stream) {
                    return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "";
                }
            });
        }
    }

    private static Map<String, Finding> parse(String output) {
        Map<String, Finding> findings = new HashMap<>();
        for (String line : output.lines().toList()) {
            String[] fields = line.split("\t", 4);
            if (fields.length == 4 && fields[0].equals("PROBE")) {
                findings.put(fields[1], new Finding(Outcome.fromWord(fields[2]), fields[3]));
            }
        }
        return findings;
    }
}
