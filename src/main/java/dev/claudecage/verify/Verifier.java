package dev.claudecage.verify;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.oci.Spec;
import dev.claudecage.CageException;
import dev.claudecage.net.CageNetworking;
import dev.claudecage.runtime.CageInstance;
import dev.claudecage.process.CommandScope;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.UserNamespace;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.StatePaths;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the probe catalogue in a cage built exactly as {@code run} builds one, then, for the
 * positive controls, each group of probes again in a cage with their wall taken down.
 */
public final class Verifier {

    private static final Duration CAGE_TIMEOUT = Duration.ofMinutes(5);
    /** Probes whose verdict the host's canary can overrule. */
    private static final List<String> NETWORK_PROBES = List.of("network-isolated", "gateway-other-ports-blocked");

    private static final String RESOURCES_WALL = "resources";
    private static final String GATEWAY_PROBE = "gateway-other-ports-blocked";
    /** Probes whose control grants a capability that only counts in the host's user namespace. */
    private static final List<String> NEED_HOST_CAPABILITIES = List.of(
            "open-by-handle-denied", "mknod-denied", "swapon-denied", "kernel-log-denied");

    private final StatePaths paths;
    private final ProcessRunner runner;

    public Verifier(StatePaths paths, ProcessRunner runner) {
        this.paths = paths;
        this.runner = runner;
    }

    public VerifyReport verify(CageConfig config, boolean withControls) {
        CagePlan plan = CagePlan.resolve(config, paths, runner);
        try (VerifyFixtures fixtures = fixtures(plan)) {
            boolean limitsEnforced = plan.rootless() == null || plan.rootless().cgroups().delegated();
            List<Probe> probes = ProbeCatalogue.probes(fixtures, config.network()).stream()
                    .filter(probe -> limitsEnforced || !probe.wall().equals(RESOURCES_WALL))
                    .filter(probe -> plan.rootless() == null || !probe.id().equals(GATEWAY_PROBE)).toList();
            Map<String, Finding> findings = runProbes(plan, fixtures, probes, null);
            Map<String, Finding> controls = new HashMap<>();
            if (withControls) {
                Map<String, List<Probe>> byWeakening = new LinkedHashMap<>();
                probes.stream().filter(probe -> plan.rootless() == null || !NEED_HOST_CAPABILITIES.contains(probe.id()))
                        .forEach(probe -> byWeakening.computeIfAbsent(probe.control().description(), key -> new ArrayList<>())
                        .add(probe));
                for (List<Probe> group : byWeakening.values()) {
                    controls.putAll(runProbes(plan, fixtures, group, group.get(0).control()));
                }
            }
            List<VerifyReport.ProbeResult> results = probes.stream().map(probe -> {
                Finding finding = findings.get(probe.id());
                Finding control = controls.get(probe.id());
                return new VerifyReport.ProbeResult(probe.id(), probe.wall(), probe.description(),
                        finding.outcome(), finding.detail(), control == null ? null
                        : new VerifyReport.ControlResult(probe.control().description(), control.outcome(), control.detail()));
            }).toList();
            return new VerifyReport(VerifyReport.REPORT_VERSION, plan.runtime().kind().configName(),
                    plan.policy().appArmor().detail(), withControls, results, notRun(plan, limitsEnforced, withControls));
        }
    }

    /** What a rootless verify leaves out, and why; null when nothing is left out. */
    private static List<String> notRun(CagePlan plan, boolean limitsEnforced, boolean withControls) {
        if (plan.rootless() == null) {
            return null;
        }
        List<String> notRun = new ArrayList<>();
        if (!limitsEnforced) {
            notRun.add("the '" + RESOURCES_WALL + "' probes: this host cannot enforce limits for this user ("
                    + plan.rootless().cgroups().detail() + "), and allow_unlimited runs the cage without them");
        }
        if (plan.config().network() == NetworkMode.FILTERED) {
            notRun.add(GATEWAY_PROBE + ": a rootless cage has no gateway address to probe; its namespace has loopback "
                    + "only (network-interfaces-expected), with the proxy and gateway relayed onto it");
        }
        if (withControls) {
            notRun.add("the positive controls of " + String.join(", ", NEED_HOST_CAPABILITIES) + ": their wall is "
                    + "a capability the kernel checks in the host's user namespace, which no rootless cage can be given, "
                    + "so the user namespace is a second wall that no control can take down");
        }
        return notRun.isEmpty() ? null : notRun;
    }

    /** The fixtures; a rootless cage's setuid helper is made in a namespace mapped as the cages' are. */
    private VerifyFixtures fixtures(CagePlan plan) {
        Path rootfs = plan.layerHolding("usr/bin/id");
        if (plan.rootless() == null) {
            return VerifyFixtures.create(paths.runs(), rootfs, CommandScope.HOST, runner);
        }
        try (UserNamespace namespace = UserNamespace.create(plan.rootless().uids(), plan.rootless().gids(), runner)) {
            return VerifyFixtures.create(paths.runs(), rootfs, namespace, runner);
        }
    }

    private record Finding(Outcome outcome, String detail) {
    }

    private Map<String, Finding> runProbes(CagePlan plan, VerifyFixtures fixtures, List<Probe> probes,
                                           Weakening weakening) {
        String id = Cage.newId(weakening == null ? "verify" : "control");
        CageConfig config = plan.config();
        List<String> writable = config.mounts().stream().filter(mount -> !mount.readOnly()).map(MountSpec::target).toList();
        Path networkState = paths.networkState(id);
        CageNetworking.Options network = new CageNetworking.Options(fixtures.realKey(),
                networkState.resolve("audit.jsonl"), networkState, paths.networkLock());
        fixtures.takeCanaryHits();
        CapturedRun run;
        try (CageInstance cage = CageInstance.prepare(plan, id, VerifyFixtures.probeCommand(probes), false, network,
                paths, runner, (spec, networking) -> {
                    Spec withFixtures = fixtures.addTo(spec, networking, config.pidsLimit(), config.memoryBytes(), writable);
                    return weakening == null ? withFixtures : weakening.applyTo(withFixtures);
                })) {
            run = CapturedRun.of(cage, CAGE_TIMEOUT);
        }
        int canaryHits = fixtures.takeCanaryHits().size();
        Map<String, Finding> findings = parse(run.stdout());
        for (Probe probe : probes) {
            findings.putIfAbsent(probe.id(), new Finding(Outcome.ERROR,
                    "the probe printed no result (cage exit code " + run.exitCode() + "; "
                            + run.stderr().strip().lines().reduce((first, second) -> second).orElse("no stderr") + ")"));
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

    /** The probe cage's output and exit code, read while it runs so that no pipe fills up. */
    private record CapturedRun(int exitCode, String stdout, String stderr) {
        static CapturedRun of(CageInstance cage, Duration timeout) {
            Process process = cage.start(ProcessBuilder.Redirect.PIPE);
            try {
                process.getOutputStream().close();
                CompletableFuture<String> out = read(process.getInputStream());
                CompletableFuture<String> err = read(process.getErrorStream());
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
