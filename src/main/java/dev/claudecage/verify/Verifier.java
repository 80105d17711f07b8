package dev.claudecage.verify;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountSpec;
import dev.claudecage.oci.Spec;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.StatePaths;

import java.time.Duration;
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
    private static final String NETWORK_PROBE = "network-isolated";

    private final StatePaths paths;
    private final ProcessRunner runner;

    public Verifier(StatePaths paths, ProcessRunner runner) {
        this.paths = paths;
        this.runner = runner;
    }

    public VerifyReport verify(CageConfig config, boolean withControls) {
        CagePlan plan = CagePlan.resolve(config, paths, runner);
        try (VerifyFixtures fixtures = VerifyFixtures.create(paths.runs(), plan.rootfs())) {
            List<Probe> probes = ProbeCatalogue.probes(fixtures);
            Map<String, Finding> findings = runProbes(plan, fixtures, probes, null);
            Map<String, Finding> controls = new HashMap<>();
            if (withControls) {
                Map<String, List<Probe>> byWeakening = new LinkedHashMap<>();
                probes.forEach(probe -> byWeakening.computeIfAbsent(probe.control().description(), key -> new ArrayList<>())
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
                    plan.policy().appArmor().detail(), withControls, results);
        }
    }

    private record Finding(Outcome outcome, String detail) {
    }

    private Map<String, Finding> runProbes(CagePlan plan, VerifyFixtures fixtures, List<Probe> probes,
                                           Weakening weakening) {
        String id = Cage.newId(weakening == null ? "verify" : "control");
        CageConfig config = plan.config();
        List<String> writable = config.mounts().stream().filter(mount -> !mount.readOnly()).map(MountSpec::target).toList();
        Spec spec = fixtures.addTo(plan.spec(id, VerifyFixtures.probeCommand(probes), false),
                config.pidsLimit(), config.memoryBytes(), writable);
        if (weakening != null) {
            spec = weakening.applyTo(spec);
        }
        fixtures.canary().takeHits();
        CommandResult result;
        try (Cage cage = Cage.prepare(id, plan.rootfs(), spec, paths, plan.runtime(), runner)) {
            result = runner.runAllowingFailure(plan.runtime().runCommand(id, cage.bundle(), cage.log()), CAGE_TIMEOUT);
            if (!result.succeeded() && cage.log().lastError().isPresent()) {
                throw plan.runtime().explainFailure("the verify cage " + id + " did not start", cage.log());
            }
        }
        int canaryHits = fixtures.canary().takeHits().size();
        Map<String, Finding> findings = parse(result.stdout());
        for (Probe probe : probes) {
            findings.putIfAbsent(probe.id(), new Finding(Outcome.ERROR,
                    "the probe printed no result (cage exit code " + result.exitCode() + "; "
                            + result.stderr().strip().lines().reduce((first, second) -> second).orElse("no stderr") + ")"));
        }
        if (findings.containsKey(NETWORK_PROBE) && canaryHits > 0) {
            // The host's own record outranks what the cage says about itself.
            findings.put(NETWORK_PROBE, new Finding(Outcome.HOLE, "the host canary recorded " + canaryHits
                    + " connection(s) from the cage; " + findings.get(NETWORK_PROBE).detail()));
        }
        return findings;
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
