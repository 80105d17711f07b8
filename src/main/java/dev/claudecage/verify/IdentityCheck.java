package dev.claudecage.verify;

import dev.claudecage.CageException;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.IdBlock;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.Stdio;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.CageInstance;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.session.HostProbe;
import dev.claudecage.session.RuntimeContainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * The host's side of the identity probes, which no process in the cage can judge: whether the ids
 * the cage's uid_map gives it are its own block's and nobody's on the host (judged against the
 * host's accounts), whether a host process of the cage's uid can trace it (tried from outside, as
 * that uid), and whether two cages that run at once share host ids (a second cage is started
 * beside it, and both uid_maps are read from the host).
 */
final class IdentityCheck {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** The second cage sleeps, deaf to SIGTERM as the first process of its pid namespace: it is killed soon. */
    private static final Duration PEER_GRACE = Duration.ofMillis(200);
    /** runsc's name for its file server process (its first argument). */
    private static final String GOFER_NAME = "runsc-gofer";
    private static final Pattern OWN_IDS_DETAIL = Pattern.compile("uid=(\\d+) gid=(\\d+) uid_map=(\\S*) gid_map=(\\S*)");
    /**
     * Run as the cage's uid on the host: reads the cage's environment, and attaches to it with
     * PTRACE_SEIZE (101 is ptrace on x86_64, like the probes' numbers), which does not stop it; the
     * tracer's exit detaches it again. Perl's {@code my} takes effect only after its statement, so
     * the handles are declared before the one that opens and reads.
     */
    private static final String TRACE_SCRIPT = "my $pid = shift; my (@said, $f, $buf, $n);"
            + "if (open($f, '<', \"/proc/$pid/environ\") and defined($n = sysread($f, $buf, 4096))) {"
            + " push @said, \"environ read ($n bytes)\" } else { push @said, \"environ refused: $!\" }"
            + "my $rc = syscall(101, 0x4206, $pid + 0, 0, 0);"
            + "push @said, $rc == 0 ? 'ptrace attached' : \"ptrace refused: $!\"; print join('; ', @said), \"\\n\";";

    private final StatePaths paths;
    private final ProcessRunner runner;

    IdentityCheck(StatePaths paths, ProcessRunner runner) {
        this.paths = paths;
        this.runner = runner;
    }

    /**
     * Whether any of {@code probes} needs the host to act while a cage of {@code plan} runs: under
     * gVisor the cage's own ids are also read from the host ({@link #hostSideUnderGvisor}).
     */
    static boolean actsWhileRunning(List<Probe> probes, CagePlan plan) {
        return probes.stream().anyMatch(probe -> probe.id().equals(ProbeCatalogue.HOST_USER_TRACE)
                || probe.id().equals(ProbeCatalogue.IDS_DISJOINT)
                || probe.id().equals(ProbeCatalogue.OWN_IDS) && plan.runtime().kind() == RuntimeKind.RUNSC);
    }

    /**
     * While cage {@code cageId} runs: tries to trace it as its uid, and starts a second cage from
     * {@code plan} beside it to compare their ids; returns the findings of the probes asked for.
     */
    Map<String, Verifier.Finding> whileRunning(String cageId, CagePlan plan, List<Probe> probes) {
        Map<String, Verifier.Finding> findings = new LinkedHashMap<>();
        boolean trace = probes.stream().anyMatch(probe -> probe.id().equals(ProbeCatalogue.HOST_USER_TRACE));
        boolean disjoint = probes.stream().anyMatch(probe -> probe.id().equals(ProbeCatalogue.IDS_DISJOINT));
        boolean gvisor = plan.runtime().kind() == RuntimeKind.RUNSC;
        boolean ownIds = gvisor && probes.stream().anyMatch(probe -> probe.id().equals(ProbeCatalogue.OWN_IDS));
        long pid;
        try {
            pid = gvisor ? awaitFileServer(cageId) : awaitPid(cageId);
        } catch (CageException e) {
            Verifier.Finding error = new Verifier.Finding(Outcome.ERROR, e.getMessage());
            if (trace) {
                findings.put(ProbeCatalogue.HOST_USER_TRACE, error);
            }
            if (disjoint) {
                findings.put(ProbeCatalogue.IDS_DISJOINT, error);
            }
            if (ownIds) {
                findings.put(ProbeCatalogue.OWN_IDS, error);
            }
            return findings;
        }
        if (ownIds) {
            findings.put(ProbeCatalogue.OWN_IDS, hostSideUnderGvisor(pid, new HostIds(plan.config().uid(), plan.config().gid())));
        }
        if (trace) {
            findings.put(ProbeCatalogue.HOST_USER_TRACE, trace(pid, new HostIds(plan.config().uid(), plan.config().gid())));
        }
        if (disjoint) {
            findings.put(ProbeCatalogue.IDS_DISJOINT, besidePeer(pid, plan));
        }
        return findings;
    }

    /** A host process of {@code as}'s ids tries to read the environment of {@code pid}, and to attach to it. */
    Verifier.Finding trace(long pid, HostIds as) {
        CommandResult result = runner.runAllowingFailure(List.of("setpriv", "--reuid=" + as.uid(), "--regid=" + as.gid(),
                "--clear-groups", "--", "perl", "-e", TRACE_SCRIPT, Long.toString(pid)), TIMEOUT);
        return judgeTrace(result.exitCode(), result.stdout(), result.stderr(), pid, as);
    }

    static Verifier.Finding judgeTrace(int exitCode, String stdout, String stderr, long pid, HostIds as) {
        String said = stdout.strip();
        if (exitCode != 0 || !said.contains("environ") || !said.contains("ptrace")) {
            return new Verifier.Finding(Outcome.ERROR, "the host process of uid " + as.uid() + " did not report (exit "
                    + exitCode + "): " + stderr.strip());
        }
        boolean through = said.contains("environ read") || said.contains("ptrace attached");
        return new Verifier.Finding(through ? Outcome.HOLE : Outcome.BLOCKED,
                "a host process of uid " + as.uid() + " against the cage's pid " + pid + ": " + said);
    }

    /** Starts a second cage from {@code plan} (no network, no mounts), and compares both cages' maps from the host. */
    private Verifier.Finding besidePeer(long pid, CagePlan plan) {
        String peerId = Cage.newId("verify-peer");
        CagePlan peerPlan = plan.withConfig(plan.config().withMounts(List.of()).withNetwork(NetworkMode.NONE));
        Path state = paths.networkState(peerId);
        try (CageInstance peer = CageInstance.prepare(peerPlan, peerId, List.of("sleep", "60"), false,
                new CageNetworking.Options(null, state.resolve("audit.jsonl"), state, paths.networkLock()), null, paths, runner,
                CageInstance.SpecAdjustment.NONE)) {
            Process process = peer.start(new Stdio(ProcessBuilder.Redirect.PIPE, ProcessBuilder.Redirect.DISCARD,
                    ProcessBuilder.Redirect.DISCARD));
            try {
                long peerPid = plan.runtime().kind() == RuntimeKind.RUNSC ? awaitFileServer(peerId) : awaitPid(peerId);
                return judgeDisjoint(pid, readMaps(pid), peerPid, readMaps(peerPid));
            } finally {
                peer.stop(PEER_GRACE);
                process.destroyForcibly();
            }
        } catch (CageException e) {
            return new Verifier.Finding(Outcome.ERROR, "the second cage did not run: " + e.getMessage());
        }
    }

    /**
     * Under gVisor the cage's processes live in its own kernel, whose uid_map is its own (all ids as
     * they are) whatever the host gave it; what acts on the host for the cage is its file server
     * (the gofer), in the cage's user namespace, which creates the cage's files as the cage's ids
     * there. So the probe's verdict is drawn from the file server's maps, read from the host, for
     * the cage's user ({@code cage}): the same detail as the probe gives under runc.
     */
    static Verifier.Finding hostSideUnderGvisor(long fileServer, HostIds cage) {
        String[] maps = readMaps(fileServer);
        return new Verifier.Finding(Outcome.BLOCKED, "gVisor's file server (pid " + fileServer + "), which makes the "
                + "cage's files on the host, maps the cage's ids: uid=" + cage.uid() + " gid=" + cage.gid() + " uid_map="
                + inlineMap(maps[0]) + " gid_map=" + inlineMap(maps[1]));
    }

    /** A map's lines "inside outside count" as inside:outside:count,..., as the probe writes it. */
    static String inlineMap(String map) {
        return String.join(",", map.strip().lines().map(line -> String.join(":", line.strip().split("\\s+"))).toList());
    }

    /**
     * The file server (runsc's gofer) of cage {@code cageId}, once it runs. Found by its command line,
     * {@value #GOFER_NAME} serving the cage's bundle, which runsc writes: the probe reads the file
     * server's maps, and runsc's state names the sandbox's process, not the file server's.
     */
    private long awaitFileServer(String cageId) {
        Path bundle = paths.bundle(cageId);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Long> found = fileServerOf(bundle);
            if (found.isPresent()) {
                return found.get();
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CageException("interrupted while waiting for cage " + cageId + "'s file server");
            }
        }
        throw new CageException("gVisor's file server of cage " + cageId + " did not run within " + TIMEOUT.toSeconds()
                + "s (no " + GOFER_NAME + " serving " + bundle + ")");
    }

    /** The host process {@value #GOFER_NAME} with {@code --bundle BUNDLE} among its arguments. */
    static Optional<Long> fileServerOf(Path bundle) {
        try (var processes = Files.list(Path.of("/proc"))) {
            return processes.map(path -> path.getFileName().toString()).filter(name -> name.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(pid -> servesBundle(argumentsOf(pid), bundle)).findFirst();
        } catch (IOException e) {
            throw new CageException("cannot list the host's processes: " + e.getMessage());
        }
    }

    private static boolean servesBundle(List<String> arguments, Path bundle) {
        return !arguments.isEmpty() && arguments.get(0).equals(GOFER_NAME)
                && IntStream.range(1, arguments.size()).anyMatch(i ->
                arguments.get(i - 1).equals("--bundle") && arguments.get(i).equals(bundle.toString()));
    }

    private static List<String> argumentsOf(long pid) {
        try {
            String line = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"));
            return line.isEmpty() ? List.of() : List.of(line.split("\0"));
        } catch (IOException e) {
            // Gone, or a kernel thread: not the file server.
            return List.of();
        }
    }

    /** A process's uid_map and gid_map as the host sees them. */
    static String[] readMaps(long pid) {
        try {
            Path proc = Path.of("/proc", Long.toString(pid));
            return new String[] {Files.readString(proc.resolve("uid_map")), Files.readString(proc.resolve("gid_map"))};
        } catch (IOException e) {
            throw new CageException("cannot read the id maps of pid " + pid + ": " + e.getMessage());
        }
    }

    static Verifier.Finding judgeDisjoint(long pid, String[] maps, long peerPid, String[] peerMaps) {
        List<String> shared = new ArrayList<>();
        String[] kinds = {"uids", "gids"};
        for (int i = 0; i < 2; i++) {
            for (long[] range : ranges(maps[i])) {
                for (long[] peer : ranges(peerMaps[i])) {
                    long first = Math.max(range[0], peer[0]);
                    long last = Math.min(range[0] + range[1], peer[0] + peer[1]) - 1;
                    if (first <= last) {
                        shared.add("host " + kinds[i] + " " + first + "-" + last);
                    }
                }
            }
        }
        String which = "the cage (pid " + pid + ") and a second one (pid " + peerPid + ")";
        return shared.isEmpty()
                ? new Verifier.Finding(Outcome.BLOCKED, which + " have no host id in common: uids " + outside(maps[0])
                + " and " + outside(peerMaps[0]))
                : new Verifier.Finding(Outcome.HOLE, which + " share " + String.join(", ", shared));
    }

    /** The host ranges (start, count) of a uid_map or gid_map's lines "inside outside count". */
    private static List<long[]> ranges(String map) {
        List<long[]> ranges = new ArrayList<>();
        for (String line : map.strip().lines().toList()) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length == 3) {
                ranges.add(new long[] {Long.parseLong(fields[1]), Long.parseLong(fields[2])});
            }
        }
        return ranges;
    }

    private static String outside(String map) {
        return String.join(",", ranges(map).stream().map(range -> range[0] + "-" + (range[0] + range[1] - 1)).toList());
    }

    /**
     * The verdict on the cage's own view of its ids (the probe's detail): its uid and gid must map to
     * host ids of its own block ({@code own}, null when it has none), which are neither the invoking
     * user's nor those of any account in {@code passwd} or group in {@code group}.
     */
    static Verifier.Finding judgeOwnIds(Verifier.Finding inCage, IdBlock own, HostIds invoking, String passwd, String group) {
        Matcher detail = OWN_IDS_DETAIL.matcher(inCage.detail());
        if (inCage.outcome() != Outcome.BLOCKED || !detail.find()) {
            return inCage;
        }
        Optional<Long> hostUid = outsideOf(Long.parseLong(detail.group(1)), detail.group(3));
        Optional<Long> hostGid = outsideOf(Long.parseLong(detail.group(2)), detail.group(4));
        if (hostUid.isEmpty() || hostGid.isEmpty()) {
            return new Verifier.Finding(Outcome.ERROR, "the cage's maps do not map its own ids: " + inCage.detail());
        }
        long uid = hostUid.get();
        long gid = hostGid.get();
        List<String> holes = new ArrayList<>();
        if (own == null) {
            holes.add("the cage has no host ids of its own");
        } else if (!own.holdsUid(uid) || !own.holdsGid(gid)) {
            holes.add("they are not of the cage's own block (" + own + ")");
        }
        if (uid == invoking.uid() || gid == invoking.gid()) {
            holes.add("they are the invoking user's (" + invoking + ")");
        }
        accountOf(passwd, uid).ifPresent(name -> holes.add("uid " + uid + " is the host account " + name));
        accountOf(group, gid).ifPresent(name -> holes.add("gid " + gid + " is the host group " + name));
        String ids = "the cage's uid " + detail.group(1) + " and gid " + detail.group(2) + " are host uid " + uid
                + " and gid " + gid;
        return holes.isEmpty()
                ? new Verifier.Finding(Outcome.BLOCKED, ids + ", of its own block (" + own + "), nobody's on the host")
                : new Verifier.Finding(Outcome.HOLE, ids + ": " + String.join("; ", holes));
    }

    /** The host id of {@code inside} in a map written as inside:outside:count,... */
    private static Optional<Long> outsideOf(long inside, String map) {
        for (String entry : map.split(",")) {
            String[] fields = entry.split(":");
            if (fields.length == 3) {
                long start = Long.parseLong(fields[0]);
                if (inside >= start && inside < start + Long.parseLong(fields[2])) {
                    return Optional.of(Long.parseLong(fields[1]) + inside - start);
                }
            }
        }
        return Optional.empty();
    }

    /** The name of the entry with id {@code id} in /etc/passwd's or /etc/group's format. */
    private static Optional<String> accountOf(String database, long id) {
        return database.lines().map(line -> line.split(":", -1))
                .filter(fields -> fields.length >= 3 && fields[2].equals(Long.toString(id)))
                .map(fields -> fields[0]).findFirst();
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new CageException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** The pid of cage {@code cageId}'s first process once the runtime reports it running. */
    private long awaitPid(String cageId) {
        HostProbe probe = new HostProbe(paths, runner);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<RuntimeContainer> container = probe.container(cageId);
            if (container.isPresent() && container.get().pid() > 0 && container.get().running()) {
                return container.get().pid();
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CageException("interrupted while waiting for cage " + cageId);
            }
        }
        throw new CageException("cage " + cageId + " did not run within " + TIMEOUT.toSeconds() + "s");
    }
}
