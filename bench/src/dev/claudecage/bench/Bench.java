package dev.claudecage.bench;

import dev.claudecage.json.Json;
import dev.claudecage.process.Executables;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code make bench}: claude-cage against {@code docker run} and raw {@code runc run}, side by
 * side in one run, with medians and ratios. {@code bench/bench.sh} starts (and always stops) a
 * private Docker engine and passes it here; each part runs when the command it measures exists
 * and says "skipped: reason" when it does not. Results go to bench/results/DATE-HOST.json.
 */
public final class Bench {

    static final String SESSION_COMMAND = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done";

    private final Options options;
    private final Report report = new Report();
    private final long deadline;
    private final String tag = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt()).toLowerCase(Locale.ROOT);

    /** @param only the one section to run (its name in {@link #run()}), or null for all; for working on a section */
    record Options(Path cage, Path rootfs, Path results, Path scratch, String dockerBin, String dockerHost,
                   String dockerImage, String dockerMissing, int budgetSeconds, double scale, String only) {

        static Options parse(String[] args) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --option value pairs, got " + args[i]);
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
            List<String> known = List.of("cage", "rootfs", "results", "scratch", "docker-bin", "docker-host",
                    "docker-image", "docker-missing", "budget-seconds", "scale", "only");
            for (String key : values.keySet()) {
                if (!known.contains(key)) {
                    throw new IllegalArgumentException("unknown option --" + key + "; bench/bench.sh passes these: " + known);
                }
            }
            if (args.length % 2 != 0) {
                throw new IllegalArgumentException("expected --option value pairs");
            }
            return new Options(Path.of(values.getOrDefault("cage", "bin/claude-cage")).toAbsolutePath(),
                    Path.of(values.getOrDefault("rootfs", "/var/cache/claude-cage/rootfs/bookworm-minbase")),
                    Path.of(values.getOrDefault("results", "bench/results")),
                    Path.of(values.getOrDefault("scratch", "/tmp/claude-cage-bench")),
                    values.get("docker-bin"), values.get("docker-host"), values.get("docker-image"),
                    values.getOrDefault("docker-missing", "no Docker engine was given"),
                    Integer.parseInt(values.getOrDefault("budget-seconds", "540")),
                    Double.parseDouble(values.getOrDefault("scale", "1")), values.get("only"));
        }

        boolean docker() {
            return dockerHost != null && dockerImage != null;
        }

        int rounds(int base) {
            return Math.max(3, (int) Math.round(base * scale));
        }
    }

    private Bench(Options options) {
        this.options = options;
        this.deadline = System.nanoTime() + options.budgetSeconds() * 1_000_000_000L;
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        Bench bench = new Bench(options);
        int exit = bench.run();
        System.exit(exit);
    }

    private int run() throws Exception {
        Files.createDirectories(options.scratch());
        Map<String, Object> machine = Machine.describe(options);
        report.put("machine", machine);
        String date = LocalDate.now(ZoneOffset.UTC).toString();
        String host = InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "_");
        report.put("date", ZonedDateTime.now(ZoneOffset.UTC).withNano(0).toString());
        report.put("host", host);
        System.out.println("claude-cage bench on " + host + ": " + machine.get("summary"));
        if (!options.docker()) {
            System.out.println("Docker: " + options.dockerMissing() + "; comparing with raw runc alone");
            report.put("docker", "unavailable: " + options.dockerMissing());
        }

        Map<String, Part> sections = new LinkedHashMap<>();
        sections.put("start-up", this::startUp);
        sections.put("phases", this::phases);
        sections.put("filtered", this::filtered);
        sections.put("gvisor", this::gvisor);
        sections.put("sessions", this::sessions);
        sections.put("build", this::build);
        sections.put("proxy", this::proxy);
        sections.put("terminal filter", this::terminalFilter);
        sections.put("memory", this::launcherMemory);
        if (options.only() != null && !sections.containsKey(options.only())) {
            throw new IllegalArgumentException("no section " + options.only() + "; the sections: " + sections.keySet());
        }
        int failures = 0;
        for (Map.Entry<String, Part> section : sections.entrySet()) {
            if (options.only() == null || options.only().equals(section.getKey())) {
                failures += guarded(section.getKey(), section.getValue());
            }
        }

        // A one-section run has a file of its own, so that it never stands in for a whole run's.
        String name = date + "-" + host + (options.only() == null ? "" : "-only-" + options.only().replace(' ', '-'));
        Path file = report.write(options.results(), name);
        System.out.println();
        System.out.println("results: " + file);
        System.out.println("chart: " + Chart.write(Json.mapper().valueToTree(report.json), file));
        return failures == 0 ? 0 : 1;
    }

    private interface Part {
        void run() throws Exception;
    }

    /** A part that throws is reported and the bench goes on with the next. */
    private int guarded(String name, Part part) {
        try {
            part.run();
            return 0;
        } catch (Exception e) {
            System.out.println("  " + name + ": failed: " + e);
            report.put(name + "_error", String.valueOf(e.getMessage()));
            return 1;
        }
    }

    // ---------------------------------------------------------------- start-up, network none

    private static final String SHARED_UID_RUN = "claude-cage run --network none -- true, userns_pool off (uid 1000)";

    private void startUp() throws Exception {
        report.section("start-up: run --network none -- true (interleaved; wall time from exec to exit)");
        String rootfs = options.rootfs().toString();
        List<Trial> trials = new ArrayList<>();
        trials.add(cage("claude-cage run --network none -- true", "run", "--rootfs", rootfs, "--network", "none", "--", "true"));
        if (options.docker()) {
            trials.add(Trial.command("docker run --rm --network none (hardened) true", docker("run", "--rm",
                    "--network", "none", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                    options.dockerImage(), "true")));
        }
        RuncBundle bundle = null;
        try {
            bundle = RuncBundle.create(options.rootfs(), options.scratch().resolve("raw-runc"));
            trials.add(Trial.command("runc run (the same config.json) true", bundle.runCommand()));
        } catch (Exception e) {
            report.skip("raw_runc", "cannot make the raw runc bundle: " + e.getMessage());
        }
        // Issue 15's price: the same run with the cage on the shared uid 1000 instead of ids of its own.
        trials.add(Trial.command(SHARED_UID_RUN, cageArgs("run", "--rootfs", rootfs, "--network", "none", "--", "true"),
                Map.of("CLAUDE_CAGE_USERNS_POOL", "off")));
        trials.add(cage("claude-cage --version", "--version"));
        trials.add(cageWithout("claude-cage run --network none -- true, no AppCDS", "run", "--rootfs", rootfs,
                "--network", "none", "--", "true"));
        trials.add(cage("claude-cage config", "config"));
        trials.add(cageWithout("claude-cage config, no AppCDS", "config"));
        if (probe(List.of(options.cage().toString(), "run", "--image", "cli", "--network", "none", "--", "true"))) {
            trials.add(cage("claude-cage run --image cli --network none -- true", "run", "--image", "cli",
                    "--network", "none", "--", "true"));
        } else {
            report.skip("image_cli", "the cli image is not built (claude-cage build cli); measured on --rootfs only");
        }
        try {
            Map<String, Trial.Samples> results = Trial.interleave(2, options.rounds(21), trials, deadline);
            report.table("startup_none", results);
            String noneVsDocker = "run none / docker run none";
            Double vsDocker = report.ratio(noneVsDocker, results,
                    "claude-cage run --network none -- true", "docker run --rm --network none (hardened) true");
            report.ratio("run none / raw runc run", results, "claude-cage run --network none -- true",
                    "runc run (the same config.json) true");
            report.ratio("raw runc run / run none (runc's share)", results, "runc run (the same config.json) true",
                    "claude-cage run --network none -- true");
            report.ratio("run none / run none without AppCDS", results, "claude-cage run --network none -- true",
                    "claude-cage run --network none -- true, no AppCDS");
            report.ratio("config / config without AppCDS", results, "claude-cage config",
                    "claude-cage config, no AppCDS");
            report.dockerTarget("run --network none <= 0.6 x docker run", noneVsDocker, vsDocker, 0.6);
            Trial.Samples ownIds = results.get("claude-cage run --network none -- true");
            Trial.Samples sharedUid = results.get(SHARED_UID_RUN);
            report.target("ids of its own cost <= 10 ms (run none vs userns_pool off)",
                    ownIds != null && ownIds.ok() && sharedUid != null && sharedUid.ok()
                            ? ownIds.medianMillis() - sharedUid.medianMillis() : null, 10, "ms");
            Trial.Samples version = results.get("claude-cage --version");
            report.target("--version < 150 ms", version != null && version.ok() ? version.medianMillis() : null, 150, "ms");
            if (bundle != null) {
                report.put("raw_runc_config_json_bytes", Files.size(bundle.configJson()));
            }
        } finally {
            if (bundle != null) {
                bundle.close();
            }
        }
    }

    private void phases() throws Exception {
        report.section("where the time of run --network none goes (class-load marks, medians)");
        report.put("phases_none", Phases.measure(options.cage(), options.rootfs(), options.scratch().resolve("phases"), 9));
    }

    // ---------------------------------------------------------------- start-up, network filtered

    private void filtered() {
        report.section("start-up: run --network filtered -- true against docker's default bridge");
        List<Trial> trials = new ArrayList<>();
        trials.add(cage("claude-cage run --network filtered -- true", "run", "--rootfs", options.rootfs().toString(),
                "--network", "filtered", "--", "true"));
        if (options.docker()) {
            trials.add(Trial.command("docker run --rm (bridge, hardened) true", docker("run", "--rm", "--read-only",
                    "--cap-drop", "ALL", "--security-opt", "no-new-privileges", options.dockerImage(), "true")));
        }
        Map<String, Trial.Samples> results = Trial.interleave(1, options.rounds(15), trials, deadline);
        report.table("startup_filtered", results);
        String filteredVsDocker = "run filtered / docker run bridge";
        Double ratio = report.ratio(filteredVsDocker, results,
                "claude-cage run --network filtered -- true", "docker run --rm (bridge, hardened) true");
        report.dockerTarget("run --network filtered <= docker run bridge", filteredVsDocker, ratio, 1.0);
    }

    // ---------------------------------------------------------------- gVisor against runc

    /** The section's share of the budget: it measures at least three rounds of each pair all the same. */
    private static final long GVISOR_SECONDS = 60;
    private static final String RUNC_TRUE = "claude-cage run --runtime runc --network none -- true";
    private static final String RUNSC_TRUE = "claude-cage run --runtime runsc --network none -- true (ptrace)";
    private static final String RUNC_WORKLOAD = "git clone + build in --image cli (runc)";
    private static final String RUNSC_WORKLOAD = "git clone + build in --image cli (runsc, ptrace)";
    /** Chart draws the ratios whose names hold "runsc / runc" as gVisor's, against runc. */
    private static final String GVISOR_STARTUP_RATIO = "run -- true, runsc / runc";
    private static final String GVISOR_WORKLOAD_RATIO = "git clone + build, runsc / runc";

    /**
     * What gVisor's wall costs: the same cage under runc and under runsc, interleaved, once starting
     * {@code true} and once running {@link GitWorkload}, where a second kernel costs most. gVisor's
     * platform is ptrace, the one that works everywhere (kvm needs nested virtualization in a VM).
     */
    private void gvisor() throws Exception {
        report.section("gVisor: run --runtime runsc against runc, start-up and a syscall-heavy workload (interleaved)");
        if (Executables.find("runsc").isEmpty()) {
            report.skip("gvisor", "runsc (gVisor) is not installed: apt-get install runsc (scripts/install-deps.sh does)");
            return;
        }
        long sectionDeadline = Math.min(deadline, System.nanoTime() + GVISOR_SECONDS * 1_000_000_000L);
        String rootfs = options.rootfs().toString();
        List<String> runc = List.of("--runtime", "runc");
        List<String> runsc = List.of("--runtime", "runsc", "--runsc-platform", "ptrace");
        List<String> trueOnRootfs = List.of("--rootfs", rootfs, "--network", "none", "--", "true");
        try {
            Trial.Commands.output(run(runsc, trueOnRootfs), Map.of(), 120);
        } catch (IOException e) {
            report.skip("gvisor", "runsc is installed but a cage does not start on it: " + Trial.firstLine(e.getMessage()));
            return;
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("runsc_platform", "ptrace");
        report.put("gvisor", json);

        List<Trial> startUp = List.of(Trial.command(RUNC_TRUE, run(runc, trueOnRootfs)),
                Trial.command(RUNSC_TRUE, run(runsc, trueOnRootfs)));
        Map<String, Trial.Samples> started = Trial.interleave(1, options.rounds(9), startUp, sectionDeadline);
        report.table("gvisor_startup", started);
        report.ratio(GVISOR_STARTUP_RATIO, started, RUNSC_TRUE, RUNC_TRUE);
        json.put("startup_added_ms", addedMillis(started, RUNSC_TRUE, RUNC_TRUE));

        Optional<Path> git = Executables.find("git");
        if (git.isEmpty()) {
            report.skip("gvisor_workload", "git is not installed on the host: the bench makes the workload's repository with it");
            return;
        }
        if (!probe(cageArgs("run", "--image", "cli", "--network", "none", "--", "true"))) {
            report.skip("gvisor_workload", "the cli image is not built (claude-cage build cli): the workload needs its git");
            return;
        }
        Path bare = GitWorkload.makeBareRepository(git.get().toString(), options.scratch().resolve("gvisor"));
        List<String> workload = List.of("--image", "cli", "--network", "none", "-v", bare + ":" + GitWorkload.MOUNT_POINT
                + ":ro", "--", "sh", "-c", GitWorkload.SCRIPT);
        json.put("workload", GitWorkload.DESCRIPTION);
        List<Trial> pair = List.of(Trial.command(RUNC_WORKLOAD, run(runc, workload)),
                Trial.command(RUNSC_WORKLOAD, run(runsc, workload)));
        Map<String, Trial.Samples> worked = Trial.interleave(0, options.rounds(5), pair, sectionDeadline);
        report.table("gvisor_workload", worked);
        report.ratio(GVISOR_WORKLOAD_RATIO, worked, RUNSC_WORKLOAD, RUNC_WORKLOAD);
        json.put("workload_added_ms", addedMillis(worked, RUNSC_WORKLOAD, RUNC_WORKLOAD));
    }

    private List<String> run(List<String> runtime, List<String> rest) {
        List<String> argv = cageArgs("run");
        argv.addAll(runtime);
        argv.addAll(rest);
        return argv;
    }

    /** What the second median adds to the first, or null when either was not measured. */
    private static Double addedMillis(Map<String, Trial.Samples> results, String slower, String faster) {
        Trial.Samples top = results.get(slower);
        Trial.Samples bottom = results.get(faster);
        if (top == null || bottom == null || !top.ok() || !bottom.ok()) {
            return null;
        }
        double added = top.medianMillis() - bottom.medianMillis();
        System.out.printf(Locale.ROOT, "  runsc adds %.0f ms%n", added);
        return Report.round(added);
    }

    // ---------------------------------------------------------------- sessions

    private void sessions() throws Exception {
        report.section("sessions: start --detach and stop; list and status with 20 sessions; idle memory");
        if (!probe(List.of(options.cage().toString(), "start", "--help"))) {
            report.skip("sessions", "this claude-cage has no 'start' command yet");
            return;
        }
        Map<String, String> env = sessionEnvironment();
        String rootfs = options.rootfs().toString();
        List<Trial> pair = new ArrayList<>();
        int[] counter = {0};
        pair.add(new Trial() {
            @Override
            public String name() {
                return "claude-cage start --detach + stop (none)";
            }

            @Override
            public long runOnce() throws Exception {
                String name = "ccbench-" + tag + "-p" + counter[0]++;
                try {
                    long start = Trial.Commands.timed(cageArgs("start", "--detach", "--name", name,
                            "--rootfs", rootfs, "--network", "none", "--", "sh", "-c", SESSION_COMMAND), env);
                    return start + Trial.Commands.timed(cageArgs("stop", name), env);
                } finally {
                    Trial.Commands.outputOrNull(cageArgs("destroy", "-t", "2", name));
                }
            }
        });
        if (options.docker()) {
            pair.add(new Trial() {
                @Override
                public String name() {
                    return "docker run -d --rm + docker stop (none)";
                }

                @Override
                public long runOnce() throws Exception {
                    String name = "ccbench-" + tag + "-p" + counter[0]++;
                    long start = Trial.Commands.timed(docker("run", "-d", "--rm", "--name", name, "--network", "none",
                            "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                            options.dockerImage(), "sh", "-c", SESSION_COMMAND), Map.of());
                    return start + Trial.Commands.timed(docker("stop", name), Map.of());
                }
            });
        }
        Map<String, Trial.Samples> results = Trial.interleave(1, options.rounds(5), pair, deadline);
        report.table("session_start_stop", results);
        String startStop = "start --detach + stop / docker run -d + stop";
        report.dockerTarget("start --detach + stop <= 1.5 x docker", startStop, report.ratio(startStop, results,
                "claude-cage start --detach + stop (none)", "docker run -d --rm + docker stop (none)"), 1.5);

        idleMemory(env, "none");
        idleMemory(env, "filtered");
        twentySessions(env);
    }

    private Map<String, String> sessionEnvironment() {
        // max_sessions is 5 by default; the bench holds 20 at once, all its own (names ccbench-TAG-*).
        return Map.of("CLAUDE_CAGE_MAX_SESSIONS", "30");
    }

    /** One idle session: its supervisor's memory, and its whole process tree's. */
    private void idleMemory(Map<String, String> env, String network) throws Exception {
        String name = "ccbench-" + tag + "-idle-" + network;
        try {
            Trial.Commands.timed(cageArgs("start", "--detach", "--name", name, "--rootfs",
                    options.rootfs().toString(), "--network", network, "--", "sh", "-c", SESSION_COMMAND), env);
            Thread.sleep(2000);
            List<Long> supervisors = supervisorsOf(name);
            String target = "idle session (" + network + "): supervisor PSS <= 24 MiB";
            if (supervisors.isEmpty()) {
                report.skip("idle_session_" + network, "no supervisor process found for " + name);
                report.target(target, null, 24, "MiB");
                return;
            }
            long pid = supervisors.get(0);
            Processes.Memory supervisor = Processes.memory(pid);
            long[] tree = Processes.treeMemory(pid);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("supervisor_rss_mib", Report.round(supervisor.rssKib() / 1024.0));
            json.put("supervisor_pss_mib", Report.round(supervisor.pssKib() / 1024.0));
            json.put("session_tree_rss_mib", Report.round(tree[0] / 1024.0));
            json.put("session_tree_pss_mib", Report.round(tree[1] / 1024.0));
            report.put("idle_session_" + network, json);
            report.target(target, supervisor.pssKib() / 1024.0, 24, "MiB");
            System.out.printf(Locale.ROOT, "  idle session (%s): supervisor RSS %.1f MiB (PSS %.1f), with runc and the cage "
                            + "RSS %.1f MiB (PSS %.1f)%n", network, supervisor.rssKib() / 1024.0, supervisor.pssKib() / 1024.0,
                    tree[0] / 1024.0, tree[1] / 1024.0);
        } finally {
            Trial.Commands.outputOrNull(cageArgs("destroy", "-t", "2", name));
        }
    }

    private void twentySessions(Map<String, String> env) throws Exception {
        int count = 20;
        List<String> names = new ArrayList<>();
        List<String> dockerNames = new ArrayList<>();
        long availableBefore = Processes.memAvailableKib();
        try {
            List<Double> startMillis = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                if (System.nanoTime() > deadline) {
                    report.skip("twenty_sessions", "time budget reached after " + i + " sessions");
                    return;
                }
                String name = "ccbench-" + tag + "-s" + String.format(Locale.ROOT, "%02d", i);
                startMillis.add(Trial.Commands.timed(cageArgs("start", "--detach", "--name", name,
                        "--rootfs", options.rootfs().toString(), "--network", "none", "--", "sh", "-c", SESSION_COMMAND),
                        env) / 1e6);
                names.add(name);
            }
            Thread.sleep(2000);
            long availableWithSessions = Processes.memAvailableKib();
            long supervisorRss = 0;
            long supervisorPss = 0;
            long treeRss = 0;
            long treePss = 0;
            for (String name : names) {
                for (long pid : supervisorsOf(name)) {
                    Processes.Memory memory = Processes.memory(pid);
                    supervisorRss += memory.rssKib();
                    supervisorPss += memory.pssKib();
                    long[] tree = Processes.treeMemory(pid);
                    treeRss += tree[0];
                    treePss += tree[1];
                }
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("sessions", count);
            json.put("start_detach_median_ms", Report.round(Report.median(startMillis)));
            json.put("supervisors_rss_total_mib", Report.round(supervisorRss / 1024.0));
            json.put("supervisors_pss_total_mib", Report.round(supervisorPss / 1024.0));
            json.put("session_trees_pss_total_mib", Report.round(treePss / 1024.0));
            json.put("session_trees_rss_total_mib", Report.round(treeRss / 1024.0));
            json.put("mem_available_drop_mib", Report.round((availableBefore - availableWithSessions) / 1024.0));
            System.out.printf(Locale.ROOT, "  %d idle sessions: start --detach median %.0f ms; supervisors PSS %.0f MiB "
                            + "in all (%.1f each), with runc and cages PSS %.0f MiB; MemAvailable fell %.0f MiB%n", count,
                    Report.median(startMillis), supervisorPss / 1024.0, supervisorPss / 1024.0 / count, treePss / 1024.0,
                    (availableBefore - availableWithSessions) / 1024.0);

            if (options.docker()) {
                for (int i = 0; i < count; i++) {
                    String name = "ccbench-" + tag + "-d" + String.format(Locale.ROOT, "%02d", i);
                    Trial.Commands.timed(docker("run", "-d", "--rm", "--name", name, "--network", "none", "--read-only",
                            "--cap-drop", "ALL", "--security-opt", "no-new-privileges", options.dockerImage(), "sh", "-c",
                            SESSION_COMMAND), Map.of());
                    dockerNames.add(name);
                }
                Thread.sleep(1000);
                long shimPss = 0;
                for (long shim : Processes.matching(line -> line.contains("containerd-shim"))) {
                    shimPss += Processes.treeMemory(shim)[1];
                }
                long daemons = 0;
                for (long pid : Processes.matching(line -> line.startsWith("dockerd ") || line.startsWith("containerd ")
                        || line.contains("/dockerd ") || line.contains("containerd --config"))) {
                    daemons += Processes.memory(pid).pssKib();
                }
                json.put("docker_shims_and_containers_pss_total_mib", Report.round(shimPss / 1024.0));
                json.put("docker_daemons_pss_mib", Report.round(daemons / 1024.0));
                System.out.printf(Locale.ROOT, "  %d idle docker containers: shims and containers PSS %.0f MiB; "
                        + "dockerd and containerd PSS %.0f MiB%n", count, shimPss / 1024.0, daemons / 1024.0);
            }
            report.put("twenty_sessions", json);

            List<Trial> trials = new ArrayList<>();
            trials.add(Trial.command("claude-cage list (20 sessions)", cageArgs("list"), env));
            trials.add(Trial.command("claude-cage status NAME (20 sessions)", cageArgs("status", names.get(0)), env));
            if (options.docker()) {
                trials.add(Trial.command("docker ps (20 containers)", docker("ps")));
                trials.add(Trial.command("docker inspect NAME (20 containers)", docker("inspect", dockerNames.get(0))));
            }
            Map<String, Trial.Samples> results = Trial.interleave(1, options.rounds(15), trials, deadline);
            report.table("list_status", results);
            String list = "list / docker ps";
            String status = "status / docker inspect";
            report.dockerTarget("list (20 sessions) <= 3 x docker ps", list,
                    report.ratio(list, results, "claude-cage list (20 sessions)", "docker ps (20 containers)"), 3);
            report.dockerTarget("status (20 sessions) <= 3 x docker inspect", status, report.ratio(status, results,
                    "claude-cage status NAME (20 sessions)", "docker inspect NAME (20 containers)"), 3);
        } finally {
            if (!names.isEmpty()) {
                List<String> destroy = new ArrayList<>(cageArgs("destroy", "-t", "2"));
                destroy.addAll(names);
                Trial.Commands.outputOrNull(destroy);
            }
            if (!dockerNames.isEmpty()) {
                List<String> remove = new ArrayList<>(docker("rm", "-f"));
                remove.addAll(dockerNames);
                Trial.Commands.outputOrNull(remove);
            }
        }
    }

    private static List<Long> supervisorsOf(String name) {
        return Processes.matching(line -> line.contains("SupervisorMain") && line.endsWith(" " + name));
    }

    // ---------------------------------------------------------------- image builds

    private void build() throws Exception {
        report.section("image build: a small Dockerfile, cold (--no-cache) and cached, against docker build");
        if (!probe(List.of(options.cage().toString(), "build", "--help"))) {
            report.skip("build", "this claude-cage has no 'build' command yet");
            return;
        }
        Path context = options.scratch().resolve("build-context");
        Files.createDirectories(context);
        Files.writeString(context.resolve("payload.txt"), "claude-cage bench payload\n".repeat(1000));
        String cageBase;
        String images = Trial.Commands.outputOrNull(cageArgs("images"));
        if (options.docker()) {
            Path archive = options.scratch().resolve("base.tar");
            Trial.Commands.output(docker("save", "-o", archive.toString(), options.dockerImage()), Map.of(), 300);
            cageBase = "ccbench-base-" + tag + ":latest";
            Trial.Commands.output(cageArgs("image", "import", "-t", cageBase, archive.toString()), Map.of(), 300);
            Files.delete(archive);
        } else if (images != null && images.contains("debian") && images.contains("bookworm")) {
            cageBase = "debian:bookworm";
        } else {
            report.skip("build", "no base image: it is made from the Docker engine's import of the rootfs, "
                    + "and no Docker engine runs here");
            return;
        }
        String steps = """
                RUN echo built > /built.txt && ls -la / > /listing.txt
                COPY payload.txt /payload.txt
                RUN wc -c /payload.txt > /payload.size
                ENV BENCH=1
                """;
        Files.writeString(context.resolve("Dockerfile.cage"), "FROM " + cageBase + "\n" + steps);
        String cageTag = "ccbench-build-" + tag + ":latest";
        List<Trial> trials = new ArrayList<>();
        trials.add(cage("claude-cage build --no-cache (cold)", "build", "--no-cache", "-f",
                context.resolve("Dockerfile.cage").toString(), "-t", cageTag, context.toString()));
        if (options.docker()) {
            Files.writeString(context.resolve("Dockerfile.docker"), "FROM " + options.dockerImage() + "\n" + steps);
            trials.add(Trial.command("docker build --no-cache (cold)", docker("build", "-q", "--no-cache", "--network",
                    "none", "-f", context.resolve("Dockerfile.docker").toString(), "-t", "ccbench-build:" + tag,
                    context.toString())));
        }
        trials.add(cage("claude-cage build (cached)", "build", "-f", context.resolve("Dockerfile.cage").toString(), "-t",
                cageTag, context.toString()));
        if (options.docker()) {
            trials.add(Trial.command("docker build (cached)", docker("build", "-q", "--network", "none", "-f",
                    context.resolve("Dockerfile.docker").toString(), "-t", "ccbench-build:" + tag, context.toString())));
        }
        try {
            Map<String, Trial.Samples> results = Trial.interleave(0, options.rounds(3), trials, deadline);
            report.table("build", results);
            report.ratio("build cold / docker build cold", results, "claude-cage build --no-cache (cold)",
                    "docker build --no-cache (cold)");
            String cached = "build cached / docker build cached";
            report.dockerTarget("build cached <= 1.5 x docker build cached", cached,
                    report.ratio(cached, results, "claude-cage build (cached)", "docker build (cached)"), 1.5);
        } finally {
            Trial.Commands.outputOrNull(cageArgs("image", "rm", cageTag));
            if (cageBase.startsWith("ccbench-")) {
                Trial.Commands.outputOrNull(cageArgs("image", "rm", cageBase));
            }
            if (options.docker()) {
                Trial.Commands.outputOrNull(docker("rmi", "-f", "ccbench-build:" + tag));
            }
        }
    }

    // ---------------------------------------------------------------- proxy

    private void proxy() throws Exception {
        report.section("egress proxy against direct loopback (127.0.0.1 only; a JVM with the launcher's flags)");
        Path dir = options.scratch().resolve("proxy");
        Files.createDirectories(dir);
        Path out = dir.resolve("proxy.json");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        System.out.print(Trial.Commands.output(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), ProxyBench.class.getName(), dir.toString(), out.toString()),
                Map.of(), 300));
        Map<?, ?> proxy = dev.claudecage.json.Json.mapper().readValue(out.toFile(), Map.class);
        report.put("proxy", proxy);
        Object throughput = proxy.get("throughput") instanceof Map<?, ?> measured ? measured.get("proxied_over_direct") : null;
        report.floorTarget("proxy throughput >= 0.8 of direct", throughput instanceof Number ratio ? ratio.doubleValue() : null,
                0.8, "of direct");
    }

    // ---------------------------------------------------------------- terminal filter

    private void terminalFilter() throws Exception {
        report.section("terminal filter: the cage's output on its way to your terminal (a JVM with the launcher's flags)");
        Path out = options.scratch().resolve("terminal-filter.json");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        System.out.print(Trial.Commands.output(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), TerminalFilterBench.class.getName(), out.toString()), Map.of(), 300));
        report.put("terminal_filter", dev.claudecage.json.Json.mapper().readValue(out.toFile(), Map.class));
    }

    // ---------------------------------------------------------------- launcher memory

    private void launcherMemory() throws Exception {
        report.section("memory: peak RSS of one call (/usr/bin/time -v), median of 3");
        if (!Files.isExecutable(Path.of("/usr/bin/time"))) {
            report.skip("launcher_memory", "/usr/bin/time is not installed (apt-get install time)");
            return;
        }
        Map<String, List<String>> commands = new LinkedHashMap<>();
        String rootfs = options.rootfs().toString();
        commands.put("claude-cage --version", cageArgs("--version"));
        commands.put("claude-cage run --network none -- true", cageArgs("run", "--rootfs", rootfs, "--network", "none", "--", "true"));
        commands.put("claude-cage run --network filtered -- true",
                cageArgs("run", "--rootfs", rootfs, "--network", "filtered", "--", "true"));
        if (options.docker()) {
            commands.put("docker run --rm --network none (the client)", docker("run", "--rm", "--network", "none",
                    "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", options.dockerImage(), "true"));
        }
        Map<String, Object> json = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> entry : commands.entrySet()) {
            List<Double> peaks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Path out = Files.createTempFile("ccbench", ".time");
                try {
                    List<String> argv = new ArrayList<>(List.of("/usr/bin/time", "-f", "%M", "-o", out.toString()));
                    argv.addAll(entry.getValue());
                    Trial.Commands.timed(argv, Map.of());
                    String text = Files.readString(out, StandardCharsets.UTF_8).strip();
                    peaks.add(Double.parseDouble(text.lines().reduce((a, b) -> b).orElse("0")) / 1024.0);
                } finally {
                    Files.deleteIfExists(out);
                }
            }
            double median = Report.median(peaks);
            json.put(entry.getKey(), Report.round(median));
            System.out.printf(Locale.ROOT, "  %-62s %6.1f MiB%n", entry.getKey(), median);
        }
        if (options.docker()) {
            long daemons = 0;
            for (long pid : Processes.matching(line -> line.contains("dockerd ") || line.contains("containerd --config"))) {
                daemons += Processes.memory(pid).rssKib();
            }
            json.put("docker daemons resident (dockerd + containerd, RSS)", Report.round(daemons / 1024.0));
            System.out.printf(Locale.ROOT, "  %-62s %6.1f MiB%n", "docker daemons resident (dockerd + containerd, RSS)",
                    daemons / 1024.0);
        }
        report.put("peak_rss_mib", json);
    }

    // ---------------------------------------------------------------- helpers

    private List<String> cageArgs(String... args) {
        List<String> argv = new ArrayList<>(List.of(options.cage().toString()));
        argv.addAll(List.of(args));
        return argv;
    }

    private Trial cage(String name, String... args) {
        return Trial.command(name, cageArgs(args));
    }

    /** The same call with the launcher's AppCDS archive turned off. */
    private Trial cageWithout(String name, String... args) {
        return Trial.command(name, cageArgs(args), Map.of("CLAUDE_CAGE_CDS", "0"));
    }

    private List<String> docker(String... args) {
        List<String> argv = new ArrayList<>(List.of(options.dockerBin(), "-H", options.dockerHost()));
        argv.addAll(List.of(args));
        return argv;
    }

    /** Whether a command runs and exits 0. */
    private static boolean probe(List<String> argv) {
        try {
            Trial.Commands.output(argv, Map.of(), 120);
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
